// ali-oss smoke test against one Ferry region; driven by tests/integration/test_ali_oss.py.
// Environment: FERRY_ENDPOINT (http://127.0.0.1:PORT), FERRY_REGION (oss-cn-hangzhou),
// FERRY_AK, FERRY_SK, FERRY_BUCKET. Prints one JSON document describing what it saw.
'use strict';

const assert = require('assert');
const crypto = require('crypto');
const OSS = require('ali-oss');

async function main() {
  const bucket = process.env.FERRY_BUCKET;
  const options = {
    region: process.env.FERRY_REGION,
    endpoint: process.env.FERRY_ENDPOINT,
    accessKeyId: process.env.FERRY_AK,
    accessKeySecret: process.env.FERRY_SK,
    secure: false,
    cname: false,
    timeout: 20000,
  };
  const client = new OSS({ ...options, bucket });
  const seen = { version: require('ali-oss/package.json').version };

  const created = await client.putBucket(bucket);
  seen.putBucketStatus = created.res.status;

  const body = Buffer.from(`hello from ali-oss ${crypto.randomBytes(8).toString('hex')}`);
  const key = 'smoke/dir/hello world+1.txt';
  const put = await client.put(key, body, { headers: { 'Content-Type': 'text/plain' }, meta: { origin: 'node' } });
  seen.putStatus = put.res.status;
  seen.putEtag = put.res.headers.etag;
  seen.md5 = crypto.createHash('md5').update(body).digest('hex').toUpperCase();

  const got = await client.get(key);
  assert.ok(Buffer.from(got.content).equals(body), 'GET returned other bytes than PUT sent');
  seen.getStatus = got.res.status;
  seen.getContentType = got.res.headers['content-type'];
  seen.getMeta = got.res.headers['x-oss-meta-origin'];

  const head = await client.head(key);
  seen.headStatus = head.status;
  seen.headMeta = head.meta;

  const listed = await client.list({ prefix: 'smoke/', 'max-keys': 10 });
  seen.listKeys = (listed.objects || []).map(o => o.name);

  const listedV2 = await client.listV2({ prefix: 'smoke/', delimiter: '/' });
  seen.listV2Prefixes = listedV2.prefixes || [];

  const deleted = await client.delete(key);
  seen.deleteStatus = deleted.res.status;

  try {
    await client.get(key);
    seen.getAfterDelete = 'found';
  } catch (err) {
    seen.getAfterDelete = `${err.status} ${err.code}`;
  }

  const dropped = await client.deleteBucket(bucket);
  seen.deleteBucketStatus = dropped.res.status;

  process.stdout.write(JSON.stringify(seen) + '\n');
}

main().catch(err => {
  process.stderr.write(`ali-oss smoke failed: ${err.status || ''} ${err.code || ''} ${err.stack || err}\n`);
  process.exit(1);
});
