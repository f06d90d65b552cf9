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
# Query the data replication rules.
result = bucket.get_bucket_replication()
# Display the returned information.
for rule in result.rule_list:
    print(rule.rule_id)
    print(rule.target_bucket_name)
    print(rule.target_bucket_location)
# Query the regions to which data can be replicated  (prose line of the seed, commented out)
