# Sample program of shared/seeds/001_dff462e14d32f811.txt (oss2), as published.
# The seed text lost Python indentation in extraction: loop bodies are re-indented and a prose
# line is commented out; nothing else is changed.  The test substitutes only the endpoint,
# the bucket names and the placeholder location, as the sample's own comments ask.
# -*- coding: utf-8 -*-
import oss2
from oss2.credentials import EnvironmentVariableCredentialsProvider

# Obtain access credentials from environment variables. Before you run the sample code, make sure that the OSS_ACCESS_KEY_ID and OSS_ACCESS_KEY_SECRET environment variables are configured.
auth = oss2.ProviderAuth(EnvironmentVariableCredentialsProvider())
# Specify the endpoint of the region in which the bucket is located. For example, if the bucket is located in the China (Hangzhou) region, set the endpoint to https://oss-cn-hangzhou.aliyuncs.com.
# Specify the name of the bucket. Example: examplebucket.
bucket = oss2.Bucket(auth, 'https://oss-cn-hangzhou.aliyuncs.com', 'examplebucket')
# Disable data replication. After data replication is disabled, the objects that are replicated to the destination bucket still exist. However, all changes to the objects in the source bucket are no longer replicated to the destination bucket.
# Specify the ID of the data replication rule. Example: test_replication_1.
result = bucket.delete_bucket_replication('test_replication_1')
