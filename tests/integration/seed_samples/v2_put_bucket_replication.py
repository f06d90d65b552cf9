# Sample program of shared/seeds/004_fa4f032ad7d5d996.txt (alibabacloud-oss-v2), verbatim.
import argparse

import alibabacloud_oss_v2 as oss

# コマンドライン引数パーサーを作成します。
parser = argparse.ArgumentParser(description="put bucket replication sample")
# コマンドライン引数を指定します。
parser.add_argument('--region', help='バケットが配置されているリージョン。', required=True)
parser.add_argument('--bucket', help='バケットの名前。', required=True)
parser.add_argument('--endpoint', help='他のサービスが OSS にアクセスするために使用できるドメイン名')
parser.add_argument('--sync_role', help='データをレプリケートするために OSS が使用することを承認するロール', required=True)
parser.add_argument('--target_bucket', help='データがレプリケートされるデスティネーションバケット', required=True)
parser.add_argument('--target_location', help='デスティネーションバケットが配置されているリージョン', required=True)

def main():
    # コマンドライン引数を解析します。
    args = parser.parse_args()

    # 認証のために環境変数からアクセス認証情報を取得します。
    credentials_provider = oss.credentials.EnvironmentVariableCredentialsProvider()

    # SDK のデフォルト構成を使用します。
    cfg = oss.config.load_default()
    # 認証プロバイダーを指定します。
    cfg.credentials_provider = credentials_provider
    # リージョンを指定します。
    cfg.region = args.region
    # エンドポイントがコマンドラインから提供されている場合は、構成内のエンドポイントを提供されたエンドポイントで更新します。
    if args.endpoint is not None:
        cfg.endpoint = args.endpoint

    # OSS クライアントを作成します。
    client = oss.Client(cfg)

    # PutBucketReplication リクエストを構成して実行します。
    result = client.put_bucket_replication(oss.PutBucketReplicationRequest(
            bucket=args.bucket,  # ソースバケットの名前。
            replication_configuration=oss.ReplicationConfiguration(
                rules=[oss.ReplicationRule(
                    source_selection_criteria=oss.ReplicationSourceSelectionCriteria(
                        sse_kms_encrypted_objects=oss.SseKmsEncryptedObjects(
                            status=oss.StatusType.ENABLED,
                        ),
                    ),
                    rtc=oss.ReplicationTimeControl(
                        status='disabled',  # RTC を無効にします。
                    ),
                    destination=oss.ReplicationDestination(
                        bucket=args.target_bucket,  # デスティネーションバケットの名前。
                        location=args.target_location,  # デスティネーションバケットのリージョン。
                        transfer_type=oss.TransferType.INTERNAL,  # 転送タイプ。
                    ),
                    historical_object_replication=oss.HistoricalObjectReplicationType.DISABLED,  # 既存データのレプリケーションを禁止します。
                    sync_role=args.sync_role,  # データレプリケーションのロール。
                    status='Disabled',  # ルールを無効にします。
                    prefix_set=oss.ReplicationPrefixSet(
                        prefixs=['aaa/', 'bbb/'],  # レプリケートされるオブジェクトの名前のプレフィックス。
                    ),
                    action='ALL',  # すべての操作。
                )],
            ),
    ))

    # HTTP ステータスコードとリクエスト ID を表示します。
    print(f'status code: {result.status_code}, request id: {result.request_id}')

if __name__ == "__main__":
    main()
