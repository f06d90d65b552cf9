# Sample program of shared/seeds/004_fa4f032ad7d5d996.txt (alibabacloud-oss-v2), verbatim.
import argparse

import alibabacloud_oss_v2 as oss

# コマンドライン引数パーサーを作成します。
parser = argparse.ArgumentParser(description="delete bucket replication sample")

# コマンドライン引数を追加します。
parser.add_argument('--region', help='バケットが配置されているリージョン。', required=True)
parser.add_argument('--bucket', help='バケットの名前。', required=True)
parser.add_argument('--endpoint', help='他のサービスが OSS にアクセスするために使用できるドメイン名')
parser.add_argument('--rule_id', help='RTC を構成するデータレプリケーションルールの ID。', required=True)

def main():
    # コマンドライン引数を解析します。
    args = parser.parse_args()

    # 環境変数からアクセス認証情報を取得します。
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

    # レプリケーションルールを削除します。
    result = client.delete_bucket_replication(oss.DeleteBucketReplicationRequest(
            bucket=args.bucket,
            replication_rules=oss.ReplicationRules(
                ids=[args.rule_id],
            ),
    ))

    # 基本的なレスポンス情報を表示します。
    print(f'status code: {result.status_code},'
          f' request id: {result.request_id},')

if __name__ == "__main__":
    main()
