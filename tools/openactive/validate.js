// The OpenActive validators, offline, for the tests (docs/openactive.md).
//   node validate.js items <file.json>   file: {"items": [data, ...], "mode": "RPDEFeed"}
//   node validate.js rpde <feed url>     walks the feed with @openactive/rpde-validator
// Prints one JSON object: {"failures": [...], "warnings": n}. The data-model validator's
// remote-JSON cache is seeded from the vendored vocabularies (sha256(url).json files holding the
// loader's file object), so `activity` values are checked against the real list, with no network.
const crypto = require('crypto');
const fs = require('fs');
const os = require('os');
const path = require('path');

const VOCAB = path.join(__dirname, '..', '..', 'sportsman', 'interfaces', 'data', 'openactive');
const LISTS = {
  'https://openactive.io/activity-list': 'activity-list.jsonld',
  'https://openactive.io/facility-types': 'facility-types.jsonld',
};

function seedCache() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'oa-cache-'));
  for (const [url, file] of Object.entries(LISTS)) {
    const key = crypto.createHash('sha256').update(url).digest('hex');
    const data = JSON.parse(fs.readFileSync(path.join(VOCAB, file), 'utf8'));
    fs.writeFileSync(path.join(dir, `${key}.json`), JSON.stringify({
      errorCode: 'error_none', data, statusCode: 200, url, exception: null,
      contentType: 'application/ld+json', fetchTime: Date.now(),
    }));
  }
  return dir;
}

async function items(file) {
  const { validate } = require('@openactive/data-model-validator');
  const input = JSON.parse(fs.readFileSync(file, 'utf8'));
  const options = {
    loadRemoteJson: true, remoteJsonCachePath: seedCache(),
    remoteJsonCacheTimeToLive: 10 * 365 * 24 * 3600, validationMode: input.mode || 'RPDEFeed',
  };
  const failures = [];
  let warnings = 0;
  for (const [index, data] of input.items.entries()) {
    const result = await validate(data, options);
    for (const e of result) {
      if (e.severity === 'failure') {
        failures.push({ index, id: data['@id'], type: e.type, path: e.path, message: e.message });
      } else if (e.severity === 'warning') warnings += 1;
    }
  }
  return { failures, warnings };
}

async function rpde(url) {
  const { RpdeValidator } = require('@openactive/rpde-validator');
  const log = await RpdeValidator(url, { pageLimit: 50, timeoutMs: 10000 });
  const failures = [];
  let warnings = 0;
  for (const page of log.pages) {
    for (const e of page.errors) {
      if (e.severity === 'failure') {
        failures.push({ url: page.url, type: e.type, message: e.message });
      } else warnings += 1;
    }
  }
  return { failures, warnings, pages: log.pages.length };
}

const [mode, arg] = process.argv.slice(2);
(mode === 'rpde' ? rpde(arg) : items(arg))
  .then((out) => { process.stdout.write(JSON.stringify(out)); })
  .catch((err) => { process.stderr.write(String(err.stack || err)); process.exit(2); });
