// verify.mjs is an independent TUF client check for signet's tests: it reads
// the TUF metadata that signet stores in an OCI registry (docs/design.md §2) with
// tuf-js, a TUF implementation that shares no code with signet, and reports
// whether a target verifies.
//
//   node verify.mjs --registry 127.0.0.1:PORT --repo team/app [--tag _tuf] \
//     --root root.json --target TAG [--plain-http] [--timeout SECONDS]
//
// It resolves the metadata tag once, maps every layer's tuf.io/filename
// annotation to its blob, and lets tuf-js's Updater walk the root chain,
// timestamp, snapshot and targets through that one manifest. Names that are
// not in the manifest answer 404, which is how tuf-js learns that the root
// chain ends. Output is one JSON line on stdout:
//
//   {"ok":true,"target":TAG,"length":N,"sha256":"...","custom":{...}}  exit 0
//   {"ok":false,"error":"..."}                                         exit 1
//
// Exit 2 means bad usage. Plain HTTP is used for loopback addresses (and
// with --plain-http); anything else is HTTPS. No registry auth is attempted.
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { BaseFetcher, Updater } from 'tuf-js';
import { DownloadHTTPError } from 'tuf-js/dist/error.js';

const TUF_MEDIA_TYPE = 'application/vnd.tuf.metadata+json';
const EMPTY_MEDIA_TYPE = 'application/vnd.oci.empty.v1+json';
const MANIFEST_MEDIA_TYPE = 'application/vnd.oci.image.manifest.v1+json';
const FILENAME_ANNOTATION = 'tuf.io/filename';
const MAX_MANIFEST_BYTES = 4 << 20;
const MAX_BLOB_BYTES = 16 << 20;
const DEFAULT_TIMEOUT_SECONDS = 60;

// Patterns from the OCI distribution spec, plus a strict file-name rule so a
// manifest cannot steer requests or the metadata dir anywhere unexpected.
const REPO_RE = /^[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*(\/[a-z0-9]+((\.|_|__|-+)[a-z0-9]+)*)*$/;
const TAG_RE = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
const DIGEST_RE = /^sha256:[a-f0-9]{64}$/;
const FILENAME_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,254}$/;
const REGISTRY_RE = /^[A-Za-z0-9.-]+(:[0-9]{1,5})?$|^\[[0-9A-Fa-f:.]+\](:[0-9]{1,5})?$/;

class UsageError extends Error {}

function parseCommandLine(argv) {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      strict: true,
      options: {
        registry: { type: 'string' },
        repo: { type: 'string' },
        tag: { type: 'string', default: '_tuf' },
        root: { type: 'string' },
        target: { type: 'string' },
        'plain-http': { type: 'boolean', default: false },
        timeout: { type: 'string', default: String(DEFAULT_TIMEOUT_SECONDS) },
      },
    }));
  } catch (err) {
    throw new UsageError(err.message);
  }
  for (const name of ['registry', 'repo', 'root', 'target']) {
    if (!values[name]) throw new UsageError(`--${name} is required`);
  }
  if (!REGISTRY_RE.test(values.registry)) throw new UsageError(`bad --registry ${JSON.stringify(values.registry)}`);
  if (!REPO_RE.test(values.repo)) throw new UsageError(`bad --repo ${JSON.stringify(values.repo)}`);
  if (!TAG_RE.test(values.tag)) throw new UsageError(`bad --tag ${JSON.stringify(values.tag)}`);
  const timeout = Number(values.timeout);
  if (!Number.isFinite(timeout) || timeout <= 0 || timeout > 3600) {
    throw new UsageError(`bad --timeout ${JSON.stringify(values.timeout)}`);
  }
  return { ...values, timeoutMs: timeout * 1000 };
}

function isLoopback(registry) {
  const host = registry.replace(/:[0-9]+$/, '');
  return host === 'localhost' || host === '[::1]' || /^127\.[0-9.]+$/.test(host);
}

// readBounded reads a fetch Response body, failing once it exceeds max bytes.
async function readBounded(response, max, what) {
  const declared = Number(response.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    throw new Error(`${what} is ${declared} bytes, more than the limit of ${max}`);
  }
  const chunks = [];
  let total = 0;
  for await (const chunk of response.body) {
    total += chunk.length;
    if (total > max) throw new Error(`${what} is more than the limit of ${max} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

class Registry {
  constructor(base, repo, signal) {
    this.base = base;
    this.repo = repo;
    this.signal = signal;
  }

  async get(path, accept, max, what) {
    const headers = accept ? { Accept: accept } : {};
    const response = await fetch(`${this.base}/v2/${this.repo}/${path}`, { headers, signal: this.signal });
    if (!response.ok || !response.body) {
      await response.body?.cancel();
      return { status: response.status };
    }
    return { status: response.status, response, body: await readBounded(response, max, what) };
  }

  // manifest resolves the metadata tag once and returns filename -> digest.
  async filesAt(tag) {
    const what = `manifest ${this.repo}:${tag}`;
    const { status, response, body } = await this.get(`manifests/${tag}`, MANIFEST_MEDIA_TYPE, MAX_MANIFEST_BYTES, what);
    if (!body) throw new Error(`fetching ${what}: http status ${status}`);
    const contentType = (response.headers.get('content-type') || '').split(';')[0].trim();
    let manifest;
    try {
      manifest = JSON.parse(body.toString('utf8'));
    } catch (err) {
      throw new Error(`parsing ${what}: ${err.message}`);
    }
    return filesFromManifest(manifest, contentType, what);
  }

  // blob returns the bytes of a blob after checking them against its digest.
  async blob(digest, what) {
    const { status, body } = await this.get(`blobs/${digest}`, '', MAX_BLOB_BYTES, what);
    if (!body) return { status };
    const got = 'sha256:' + createHash('sha256').update(body).digest('hex');
    if (got !== digest) throw new Error(`${what}: blob ${digest} has digest ${got}`);
    return { status, body };
  }
}

// filesFromManifest checks the manifest against docs/design.md §2 and maps each
// metadata file name to its layer digest.
function filesFromManifest(manifest, contentType, what) {
  const mediaType = manifest?.mediaType || contentType;
  if (mediaType !== MANIFEST_MEDIA_TYPE) throw new Error(`${what}: media type ${JSON.stringify(mediaType)} is not ${MANIFEST_MEDIA_TYPE}`);
  if (manifest.artifactType !== TUF_MEDIA_TYPE) throw new Error(`${what}: artifactType ${JSON.stringify(manifest.artifactType)} is not ${TUF_MEDIA_TYPE}`);
  if (manifest.config?.mediaType !== EMPTY_MEDIA_TYPE) throw new Error(`${what}: config media type ${JSON.stringify(manifest.config?.mediaType)} is not ${EMPTY_MEDIA_TYPE}`);
  if (!Array.isArray(manifest.layers)) throw new Error(`${what}: no layers`);
  const files = new Map();
  for (const layer of manifest.layers) {
    const name = layer?.annotations?.[FILENAME_ANNOTATION];
    if (layer?.mediaType !== TUF_MEDIA_TYPE) throw new Error(`${what}: layer media type ${JSON.stringify(layer?.mediaType)} is not ${TUF_MEDIA_TYPE}`);
    if (typeof name !== 'string' || !FILENAME_RE.test(name)) throw new Error(`${what}: layer has bad ${FILENAME_ANNOTATION} ${JSON.stringify(name)}`);
    if (typeof layer.digest !== 'string' || !DIGEST_RE.test(layer.digest)) throw new Error(`${what}: layer ${name} has bad digest ${JSON.stringify(layer.digest)}`);
    if (files.has(name)) throw new Error(`${what}: ${name} appears twice`);
    files.set(name, layer.digest);
  }
  return files;
}

// OCIFetcher answers tuf-js's metadata requests from one resolved manifest:
// the last element of the URL is the TUF file name.
class OCIFetcher extends BaseFetcher {
  constructor(registry, files) {
    super();
    this.registry = registry;
    this.files = files;
    this.fetched = [];
  }

  async fetch(url) {
    const name = decodeURIComponent(new URL(url).pathname.split('/').pop());
    const digest = this.files.get(name);
    if (!digest) throw new DownloadHTTPError(`${name} is not in the metadata manifest`, 404);
    const { status, body } = await this.registry.blob(digest, name);
    // A listed file whose blob is missing is a broken repository, not the
    // end of the root chain, so this is not a DownloadHTTPError.
    if (!body) throw new Error(`fetching ${name} (${digest}): http status ${status}`);
    this.fetched.push(name);
    return new ReadableStream({
      start(controller) {
        controller.enqueue(new Uint8Array(body));
        controller.close();
      },
    });
  }
}

async function verify(opts, signal) {
  const rootBytes = readFileSync(opts.root);
  const scheme = opts['plain-http'] || isLoopback(opts.registry) ? 'http' : 'https';
  const registry = new Registry(`${scheme}://${opts.registry}`, opts.repo, signal);
  const files = await registry.filesAt(opts.tag);
  const fetcher = new OCIFetcher(registry, files);

  const dir = mkdtempSync(join(tmpdir(), 'signet-tufjs-'));
  try {
    writeFileSync(join(dir, 'root.json'), rootBytes);
    const updater = new Updater({
      metadataDir: dir,
      // Never dialled: the fetcher only reads the file name off the URL.
      metadataBaseUrl: 'http://tuf-in-oci.invalid/metadata/',
      fetcher,
      config: { rootMaxLength: MAX_BLOB_BYTES, timestampMaxLength: MAX_BLOB_BYTES, snapshotMaxLength: MAX_BLOB_BYTES, targetsMaxLength: MAX_BLOB_BYTES },
    });
    await updater.refresh();
    const info = await updater.getTargetInfo(opts.target);
    if (!info) throw new Error(`target ${JSON.stringify(opts.target)} not found in trusted targets metadata`);
    const sha256 = info.hashes?.sha256;
    if (typeof sha256 !== 'string') throw new Error(`target ${JSON.stringify(opts.target)} has no sha256 hash`);
    return { ok: true, target: opts.target, length: info.length, sha256, custom: info.custom, fetched: fetcher.fetched };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function describe(err) {
  if (!(err instanceof Error)) return String(err);
  const name = err.constructor?.name && err.constructor.name !== 'Error' ? `${err.constructor.name}: ` : '';
  const cause = err.cause instanceof Error ? `: ${err.cause.message}` : '';
  return `${name}${err.message}${cause}`.replace(/\s+/g, ' ');
}

function finish(result, code) {
  process.stdout.write(JSON.stringify(result) + '\n', () => process.exit(code));
}

async function main() {
  let opts;
  try {
    opts = parseCommandLine(process.argv.slice(2));
  } catch (err) {
    finish({ ok: false, error: `usage: ${describe(err)}` }, 2);
    return;
  }
  const controller = new AbortController();
  const timer = setTimeout(() => {
    controller.abort();
    finish({ ok: false, error: `timed out after ${opts.timeoutMs / 1000}s` }, 1);
  }, opts.timeoutMs);
  try {
    const result = await verify(opts, controller.signal);
    clearTimeout(timer);
    finish(result, 0);
  } catch (err) {
    clearTimeout(timer);
    finish({ ok: false, error: describe(err) }, 1);
  }
}

main();
