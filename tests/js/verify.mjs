#!/usr/bin/env node
// Verifies a W3C Verifiable Credential with Digital Bazaar's libraries, offline: an
// implementation of eddsa-jcs-2022 and Bitstring Status List independent of hutong's.
//
//   node verify.mjs CREDENTIAL.json [--status-list LIST.json]... [--context URL=FILE]...
//                   [--did-document DID.json]... [--trace]
//
// Prints {"verified": bool, "errors": [{"check", "message"}], "loaded": [...]} and exits 0 when
// the credential verified, 1 when it did not, 2 on a usage error.
//
// Checks, each named in `errors[].check` when it fails:
// - input:       the files are readable JSON objects;
// - jsonld:      the credential expands as JSON-LD in safe mode, with the contexts bundled here
//                and those given with --context: every term is defined, nothing is dropped.
//                The eddsa-jcs-2022 path of the libraries does no JSON-LD processing at all, so
//                this check is the script's own: it keeps the credential a JSON-LD document
//                for verifiers that do process it;
// - credential:  the VC data model checks of @digitalbazaar/vc (context, type, issuer,
//                credentialSubject, validFrom/validUntil against the clock);
// - proof:       the eddsa-jcs-2022 DataIntegrityProof (signature over JCS hashes);
// - purpose:     the verification method is an assertionMethod of the issuer (the controller of
//                the did:key method must be the credential's `issuer`);
// - status-list: each BitstringStatusListEntry's list credential: given on the command line,
//                its own proof, its issuer (the credential's), its purpose, and its validity
//                window (validFrom/validUntil, both required, checked by the library and again
//                here), at least 131,072 entries;
// - revocation, suspension: the entry's bit is set.
//
// The document loader never touches the network: it serves the contexts shipped in the npm
// packages, did:key documents built from the key in the DID itself, the DID documents given
// with --did-document (did:web, say: by their `id`, and their verification methods by theirs),
// the status list credentials given with --status-list (by their `id`) and the contexts given
// with --context.
// Anything else throws, and `fetch` is replaced by a function that throws, so that no library
// can reach out behind the loader's back.

import {readFileSync} from 'node:fs';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {createVerifyCryptosuite} from '@digitalbazaar/eddsa-jcs-2022-cryptosuite';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {driver as didKeyDriverFactory} from '@digitalbazaar/did-method-key';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import {verifyCredential} from '@digitalbazaar/vc';
import {checkStatus, decodeList} from '@digitalbazaar/vc-bitstring-status-list';
import jsonld from 'jsonld';

// The smallest list the Bitstring Status List specification allows (16 KiB of bits).
const MIN_STATUS_LIST_ENTRIES = 131072;
// The clock skew the vc library allows on validFrom/validUntil, in seconds; the script's own
// window check uses the same, so the two agree.
const MAX_CLOCK_SKEW = 300;

globalThis.fetch = async url => {
  throw new Error(`offline verifier: network access refused (${url})`);
};

function usage(message) {
  process.stderr.write(
    `${message}\nusage: node verify.mjs CREDENTIAL.json ` +
    '[--status-list LIST.json]... [--context URL=FILE]... [--did-document DID.json]... ' +
    '[--trace]\n');
  process.exit(2);
}

const args = process.argv.slice(2);
let credentialFile;
const statusListFiles = [];
const contextFiles = [];
const didDocumentFiles = [];
let trace = false;
for(let i = 0; i < args.length; i++) {
  const a = args[i];
  if(a === '--status-list') {
    if(i + 1 >= args.length) {
      usage('--status-list needs a file');
    }
    statusListFiles.push(args[++i]);
  } else if(a === '--did-document') {
    if(i + 1 >= args.length) {
      usage('--did-document needs a file');
    }
    didDocumentFiles.push(args[++i]);
  } else if(a === '--context') {
    const spec = args[++i];
    const eq = spec === undefined ? -1 : spec.indexOf('=');
    if(eq <= 0) {
      usage('--context needs URL=FILE');
    }
    contextFiles.push([spec.slice(0, eq), spec.slice(eq + 1)]);
  } else if(a === '--trace') {
    trace = true;
  } else if(a.startsWith('--')) {
    usage(`unknown option ${a}`);
  } else if(credentialFile === undefined) {
    credentialFile = a;
  } else {
    usage(`more than one credential file: ${a}`);
  }
}
if(credentialFile === undefined) {
  usage('no credential file given');
}

const errors = [];
const loaded = [];
function fail(check, message) {
  errors.push({check, message: String(message)});
}
function finish() {
  const out = {verified: errors.length === 0, errors};
  if(trace) {
    out.loaded = loaded;
  }
  process.stdout.write(JSON.stringify(out, null, 2) + '\n');
  process.exit(errors.length === 0 ? 0 : 1);
}

function readJsonObject(file, what) {
  let text;
  try {
    text = readFileSync(file, 'utf8');
  } catch(e) {
    throw new Error(`${what} ${file}: cannot be read: ${e.message}`);
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch(e) {
    throw new Error(`${what} ${file}: not JSON: ${e.message}`);
  }
  if(!(value && typeof value === 'object' && !Array.isArray(value))) {
    throw new Error(`${what} ${file}: not a JSON object`);
  }
  return value;
}

let credential;
const statusLists = new Map();
const localContexts = new Map();
const didDocuments = new Map();
try {
  for(const file of didDocumentFiles) {
    const doc = readJsonObject(file, 'DID document');
    if(!(typeof doc.id === 'string' && doc.id.startsWith('did:'))) {
      throw new Error(`DID document ${file}: its "id" is not a DID`);
    }
    didDocuments.set(doc.id, doc);
  }
  for(const [url, file] of contextFiles) {
    localContexts.set(url, readJsonObject(file, `context ${url}`));
  }
  credential = readJsonObject(credentialFile, 'credential');
  for(const file of statusListFiles) {
    const list = readJsonObject(file, 'status list credential');
    if(typeof list.id !== 'string') {
      throw new Error(`status list credential ${file}: it has no "id"`);
    }
    if(statusLists.has(list.id)) {
      throw new Error(
        `status list credential ${file}: a second list with id ${list.id}`);
    }
    statusLists.set(list.id, list);
  }
} catch(e) {
  fail('input', e.message);
  finish();
}

const didKeyDriver = didKeyDriverFactory();
didKeyDriver.use({
  multibaseMultikeyHeader: 'z6Mk',
  fromMultibase: Ed25519Multikey.from
});

// Documents are handed out as fresh copies: the libraries modify what they are given.
async function documentLoader(url) {
  let document;
  if(credentialsContexts.has(url)) {
    document = credentialsContexts.get(url);
  } else if(localContexts.has(url)) {
    document = localContexts.get(url);
  } else if(url.startsWith('did:key:')) {
    // Built from the public key that the DID itself spells: nothing is fetched.
    document = await didKeyDriver.get({url});
  } else if(didDocuments.has(url)) {
    document = didDocuments.get(url);
  } else if(didDocuments.has(url.split('#')[0])) {
    // A verification method, from its DID document.
    const doc = didDocuments.get(url.split('#')[0]);
    document = (doc.verificationMethod || []).find(vm => vm.id === url);
    if(document === undefined) {
      throw new Error(`offline verifier: ${doc.id} has no verification method ${url}`);
    }
  } else if(statusLists.has(url)) {
    document = statusLists.get(url);
  } else {
    throw new Error(
      `offline verifier: refusing to load ${url}: it is not a bundled context, a did:key, ` +
      'or a context, DID document or status list credential given on the command line');
  }
  loaded.push(url);
  return {contextUrl: null, documentUrl: url, document: structuredClone(document)};
}

const suite = new DataIntegrityProof({cryptosuite: createVerifyCryptosuite()});

function message(e) {
  if(!e) {
    return 'unknown error';
  }
  if(Array.isArray(e)) {
    return e.map(message).join('; ');
  }
  let text = e.message || String(e);
  const event = e.details?.event;
  if(event) {
    // A JSON-LD safe mode event: what was dropped or changed, and where.
    text += ` ${event.message} ${JSON.stringify(event.details)}`;
  }
  if(Array.isArray(e.errors) && e.errors.length > 0) {
    text += ': ' + e.errors.map(message).join('; ');
  }
  const cause = e.cause || e.details?.cause;
  if(cause) {
    text += ' (' + message(cause) + ')';
  }
  return text;
}

// The validity window of a status list, checked here as well as in the library (which checks
// validFrom/validUntil only when present): hutong's lists always carry both, and a list without
// an end could be replayed forever to hide a revocation.
function checkListWindow(list, url, now) {
  const problems = [];
  for(const prop of ['validFrom', 'validUntil']) {
    const v = list[prop];
    if(typeof v !== 'string' || Number.isNaN(Date.parse(v))) {
      problems.push(`status list ${url}: "${prop}" is missing or not a date-time`);
    }
  }
  if(problems.length > 0) {
    return problems;
  }
  const skew = MAX_CLOCK_SKEW * 1000;
  if(now.getTime() < Date.parse(list.validFrom) - skew) {
    problems.push(`status list ${url}: not valid before ${list.validFrom}`);
  }
  if(now.getTime() > Date.parse(list.validUntil) + skew) {
    problems.push(`status list ${url}: expired at ${list.validUntil}`);
  }
  return problems;
}

function entriesOf(credential) {
  const cs = credential.credentialStatus;
  return (Array.isArray(cs) ? cs : [cs]).filter(
    e => e && e.type === 'BitstringStatusListEntry');
}

// The errors of the status check, once verifyCredential has called it (it does so only after
// the credential's own proof has verified).
let statusErrors = null;

async function statusCheck() {
  const now = new Date();
  statusErrors = [];
  for(const entry of entriesOf(credential)) {
    const url = entry.statusListCredential;
    const list = statusLists.get(url);
    if(list === undefined) {
      continue; // the library's load fails and says so
    }
    for(const p of checkListWindow(list, url, now)) {
      statusErrors.push({check: 'status-list', message: p});
    }
    try {
      const decoded = await decodeList({encodedList: list.credentialSubject?.encodedList});
      if(decoded.length < MIN_STATUS_LIST_ENTRIES) {
        statusErrors.push({
          check: 'status-list',
          message: `status list ${url}: ${decoded.length} entries, ` +
            `at least ${MIN_STATUS_LIST_ENTRIES} are required`
        });
      }
    } catch(e) {
      statusErrors.push({check: 'status-list', message: `status list ${url}: ${e.message}`});
    }
  }
  const result = await checkStatus({credential, documentLoader, suite});
  if(!result.verified) {
    statusErrors.push({check: 'status-list', message: message(result.error)});
  } else {
    // The library reports a set bit as `status: true` of a verified check: deciding what a set
    // bit means is the caller's job.
    for(const r of result.results) {
      const purpose = r.credentialStatus.statusPurpose;
      if(r.status !== false) {
        statusErrors.push({
          check: purpose,
          message: `status ${purpose}: bit ${r.credentialStatus.statusListIndex} of ` +
            `${r.credentialStatus.statusListCredential} is set`
        });
      }
    }
  }
  return {verified: statusErrors.length === 0, errors: statusErrors};
}

// JSON-LD safe mode: an undefined term, a relative IRI or anything else expansion would drop
// or change is an error.
try {
  await jsonld.expand(structuredClone(credential), {documentLoader, safe: true, base: null});
} catch(e) {
  fail('jsonld', message(e));
}

let result;
try {
  result = await verifyCredential({
    credential, suite, documentLoader, checkStatus: statusCheck
  });
} catch(e) {
  fail('credential', e.message || e);
  finish();
}

if(!result.verified) {
  const before = errors.length;
  const results = result.results || [];
  const proofResults = results.filter(r => r.proof);
  if(statusErrors !== null) {
    // The proof verified; the status check failed.
    errors.push(...statusErrors);
  } else if(results.some(r => r.credential && !r.proof)) {
    // The data model checks failed, before any proof was looked at.
    fail('credential', message(result.error));
  } else if(proofResults.length === 0) {
    // No proof of this suite and purpose: missing, or of another kind.
    fail('proof', message(result.error));
  } else {
    for(const r of proofResults) {
      if(r.purposeResult && r.purposeResult.valid === false) {
        fail('purpose', message(r.purposeResult.error));
      } else if(!r.verified) {
        fail('proof', message(r.error));
      }
    }
  }
  if(errors.length === before) {
    fail('credential', message(result.error) || 'not verified');
  }
}
finish();
