#!/usr/bin/env node
// lti_badger's interop verifier: checks one Open Badges 3.0 credential the way a
// third-party verifier built on Digital Bazaar's libraries would, entirely offline.
//
//   node verify.mjs CREDENTIAL.json|- [--docs MAP.json] [--now DATETIME]
//                   [--strict] [--require-status] [-q]
//
// stdout: one line, `VERIFIED` or `FAILED: <reason>`; exit 0 (verified), 1 (failed),
// 2 (bad usage). Notes on what was checked go to stderr unless -q.
//   --docs            {"<url>": document | "path.json"}: DID documents (did:web),
//                     status list credentials; contexts ship in tests/data/contexts
//   --now             judge validity dates at this instant (default: the clock)
//   --strict          OB 3.0 recommendations become failures
//   --require-status  a credentialStatus that cannot be checked offline fails
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as ecdsaRdfc2019}
  from '@digitalbazaar/ecdsa-rdfc-2019-cryptosuite';
import {cryptosuite as eddsaRdfc2022}
  from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {checkStatus as checkBitstringStatus}
  from '@digitalbazaar/vc-bitstring-status-list';
import jsonld from 'jsonld';
import fs from 'node:fs';
import {createDocumentLoader, readDocs} from './loader.mjs';
import {ob3Problems} from './ob3.mjs';

const CLOCK_SKEW_SECONDS = 300;
// The Data Integrity cryptosuites checked, by name (ecdsa-rdfc-2019: P-256 and P-384).
const CRYPTOSUITES = {
  'eddsa-rdfc-2022': eddsaRdfc2022, 'ecdsa-rdfc-2019': ecdsaRdfc2019};
const SUITE_NAMES = Object.keys(CRYPTOSUITES).join(' or ');
const STATUS_WORDS = {revocation: 'revoked', suspension: 'suspended'};

class UsageError extends Error {}

function parseArgs(argv) {
  const options = {file: null, docs: null, now: new Date(), strict: false,
    requireStatus: false, quiet: false};
  const flags = {'--strict': 'strict', '--require-status': 'requireStatus',
    '--quiet': 'quiet', '-q': 'quiet'};
  for(let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if(arg in flags) {
      options[flags[arg]] = true;
    } else if(arg === '--docs' || arg === '--now') {
      if(i + 1 === argv.length) {
        throw new UsageError(`${arg} needs a value`);
      }
      options[arg.slice(2)] = argv[++i];
    } else if(arg.startsWith('-') && arg !== '-' || options.file !== null) {
      throw new UsageError(`unexpected argument ${arg}`);
    } else {
      options.file = arg;
    }
  }
  if(options.file === null) {
    throw new UsageError('no credential file given');
  }
  if(typeof options.now === 'string') {
    options.now = new Date(options.now);
    if(isNaN(options.now)) {
      throw new UsageError('--now is not a date-time');
    }
  }
  return options;
}

// Every message in the nested errors vc / jsonld-signatures return, once each.
function messages(error, found = []) {
  if(!error) {
    return found;
  }
  for(const e of [error].flat()) {
    const text = e.message ?? String(e);
    if(text !== 'Verification error(s).' && !found.includes(text)) {
      found.push(text);
    }
    messages(e.errors, found);
    messages(e.cause, found);
  }
  return found;
}

function dateProblems(credential, now) {
  const skew = CLOCK_SKEW_SECONDS * 1000;
  const from = credential.validFrom ?? credential.issuanceDate;
  const until = credential.validUntil ?? credential.expirationDate;
  if(from && new Date(from) - skew > now) {
    return [`credential is not valid before ${from}`];
  }
  if(until && new Date(until).getTime() + skew < now) {
    return [`credential expired at ${until}`];
  }
  return [];
}

// The status hook handed to vc.verifyCredential: Bitstring Status List entries whose
// list credential the loader can serve are checked (list signature and issuer too).
function statusChecker({requireStatus, note}) {
  return async ({credential, documentLoader, suite}) => {
    const problems = [];
    const checkable = [];
    for(const entry of [credential.credentialStatus ?? []].flat()) {
      if(entry.type !== 'BitstringStatusListEntry') {
        note(`status: ${entry.type} is not checked`);
        requireStatus && problems.push(`status type ${entry.type} unsupported`);
        continue;
      }
      try {
        await documentLoader(entry.statusListCredential);
        checkable.push(entry);
      } catch {
        note(`status: ${entry.statusListCredential} not available offline`);
        requireStatus && problems.push(
          `status list ${entry.statusListCredential} is not available offline`);
      }
    }
    if(checkable.length) {
      const result = await checkBitstringStatus({
        credential: {...credential, credentialStatus: checkable},
        documentLoader, suite,
        verifyBitstringStatusListCredential: true, verifyMatchingIssuers: true
      });
      if(!result.verified) {
        problems.push('status check failed: ' +
          messages(result.error).join('; '));
      } else {
        for(const {credentialStatus: entry, status} of result.results) {
          const word = STATUS_WORDS[entry.statusPurpose];
          note(`status (${entry.statusPurpose}): ${status ? 'set' : 'clear'}`);
          if(status && word) {
            problems.push(`credential is ${word} (index ` +
              `${entry.statusListIndex} of ${entry.statusListCredential})`);
          }
        }
      }
    }
    return problems.length ?
      {verified: false, error: new Error(problems.join('; '))} :
      {verified: true};
  };
}

async function verdict(credential, options, note) {
  if(credential === null || typeof credential !== 'object' ||
    Array.isArray(credential)) {
    return ['not a JSON object'];
  }
  // A CLR 2.0 ClrCredential is judged as a VC: the OB 3.0 rules are for its components.
  const clr = [credential.type ?? []].flat().includes('ClrCredential');
  const {errors, recommendations} = clr ?
    {errors: [], recommendations: []} : ob3Problems(credential);
  recommendations.forEach(r => note(`recommendation: ${r}`));
  const problems = [...errors, ...(options.strict ? recommendations : [])];
  const proofs = [credential.proof ?? []].flat().filter(p =>
    p?.type === 'DataIntegrityProof' && Object.hasOwn(CRYPTOSUITES, p.cryptosuite));
  if(!proofs.length) {
    return [...problems, `no DataIntegrityProof with ${SUITE_NAMES}`];
  }
  if(!proofs.some(p => p.proofPurpose === 'assertionMethod')) {
    return [...problems, 'the proof purpose must be assertionMethod'];
  }
  const documentLoader = createDocumentLoader({
    docs: options.docs ? readDocs(options.docs) : new Map()});
  try {
    // Safe mode: a term no context defines would be dropped, hence unsigned.
    await jsonld.expand(credential, {documentLoader, safe: true});
  } catch(e) {
    problems.push(`not valid JSON-LD: ${messages(e).join('; ')}`);
  }
  const dates = dateProblems(credential, options.now);
  // Dates already failed: judge the signature inside the validity window.
  const signatureTime = dates.length ?
    new Date(credential.validFrom ?? credential.issuanceDate ?? options.now) :
    options.now;
  const result = await vc.verifyCredential({
    credential, documentLoader, now: signatureTime,
    maxClockSkew: CLOCK_SKEW_SECONDS,
    suite: Object.values(CRYPTOSUITES).map(cryptosuite =>
      new DataIntegrityProof({cryptosuite})),
    checkStatus: statusChecker({requireStatus: options.requireStatus, note})
  }).catch(error => ({verified: false, error}));
  const statusFailed = result.statusResult && !result.statusResult.verified;
  if(!result.verified && !statusFailed) {
    const why = [result.error, ...(result.results ?? []).map(r => r.error)];
    problems.push('signature: ' + (messages(why).join('; ') || 'invalid'));
  } else {
    note('signature: valid');
  }
  problems.push(...dates);
  if(statusFailed) {
    problems.push(...messages(result.statusResult.error));
  }
  return problems;
}

async function main(argv) {
  let options;
  try {
    options = parseArgs(argv);
  } catch(e) {
    if(!(e instanceof UsageError)) {
      throw e;
    }
    console.error(`${e.message}\nusage: node verify.mjs CREDENTIAL.json|- ` +
      '[--docs MAP.json] [--now DATETIME] [--strict] [--require-status] [-q]');
    return 2;
  }
  const note = options.quiet ? () => {} : line => console.error(line);
  let credential;
  try {
    credential = JSON.parse(fs.readFileSync(
      options.file === '-' ? 0 : options.file, 'utf8'));
  } catch(e) {
    console.log(`FAILED: cannot read the credential: ${e.message}`);
    return 1;
  }
  let problems;
  try {
    problems = await verdict(credential, options, note);
  } catch(e) {
    problems = [e.message];
  }
  console.log(problems.length ? `FAILED: ${problems.join('; ')}` : 'VERIFIED');
  return problems.length ? 1 : 0;
}

process.exitCode = await main(process.argv.slice(2));
