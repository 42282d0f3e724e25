// Offline JSON-LD document loader for the interop verifier. Nothing is fetched:
//   - JSON-LD contexts come from tests/data/contexts (index.json maps URL -> file);
//   - did:key (Ed25519 z6Mk..., P-256 zDn..., P-384 z82...) is expanded locally into
//     its DID document;
//   - everything else (did:web documents, status list credentials) must be in the
//     `docs` map the caller hands over: the exact URL, the https URL of a did:web, or
//     a fragment id inside one of those documents.
// Any other URL is an error, so a credential can never verify by reaching the network.
import fs from 'node:fs';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

const CONTEXT_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)), '..', 'data', 'contexts');
const DID_CONTEXT = 'https://www.w3.org/ns/did/v1';
const MULTIKEY_CONTEXT = 'https://w3id.org/security/multikey/v1';

function readContexts() {
  const index = JSON.parse(
    fs.readFileSync(path.join(CONTEXT_DIR, 'index.json'), 'utf8'));
  const contexts = new Map();
  for(const [url, file] of Object.entries(index)) {
    contexts.set(url, JSON.parse(
      fs.readFileSync(path.join(CONTEXT_DIR, file), 'utf8')));
  }
  return contexts;
}

const CONTEXTS = readContexts();

/** did:web:host:a:b -> https://host/a/b/did.json; did:web:host -> .well-known. */
export function didWebUrl(did) {
  if(!did.startsWith('did:web:')) {
    return null;
  }
  const [host, ...segments] = did.slice('did:web:'.length).split(':')
    .map(decodeURIComponent);
  return segments.length ?
    `https://${host}/${segments.join('/')}/did.json` :
    `https://${host}/.well-known/did.json`;
}

// The did:key prefixes of the keys read here: Ed25519, P-256, P-384 (compressed).
const DID_KEY_PREFIXES = ['z6Mk', 'zDn', 'z82'];

/** The DID document of a did:key: one Multikey, for every purpose. */
export function didKeyDocument(did) {
  const multibase = did.slice('did:key:'.length);
  if(!DID_KEY_PREFIXES.some(prefix => multibase.startsWith(prefix))) {
    throw new Error(`${did}: only Ed25519 (z6Mk...), P-256 (zDn...) and ` +
      'P-384 (z82...) did:key are supported');
  }
  const id = `${did}#${multibase}`;
  return {
    '@context': [DID_CONTEXT, MULTIKEY_CONTEXT],
    id: did,
    verificationMethod: [{
      id, type: 'Multikey', controller: did, publicKeyMultibase: multibase
    }],
    assertionMethod: [id],
    authentication: [id],
    capabilityInvocation: [id],
    capabilityDelegation: [id]
  };
}

/** Reads a `--docs` file: {"<url>": document, or "<path of a JSON file>"}. */
export function readDocs(file) {
  const raw = JSON.parse(fs.readFileSync(file, 'utf8'));
  if(raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error('the docs map must be a JSON object {"<url>": document}');
  }
  const base = path.dirname(path.resolve(file));
  return new Map(Object.entries(raw).map(([url, value]) => [url,
    typeof value === 'string' ?
      JSON.parse(fs.readFileSync(path.resolve(base, value), 'utf8')) :
      value]));
}

// Relative '#key' references of a controller document, made absolute: the proof
// libraries compare verification method ids as strings.
function withAbsoluteIds(document, base) {
  const absolute = ref => typeof ref === 'string' && ref.startsWith('#') ?
    base + ref : ref;
  const copy = structuredClone(document);
  for(const [term, value] of Object.entries(copy)) {
    if(term === 'verificationMethod' || term === 'assertionMethod' ||
      term === 'authentication') {
      copy[term] = [value].flat().map(entry => typeof entry === 'object' ?
        {controller: base, ...entry, id: absolute(entry.id)} :
        absolute(entry));
    }
  }
  return copy;
}

function nodeWithId(document, id) {
  for(const term of ['verificationMethod', 'assertionMethod',
    'authentication']) {
    const found = [document[term] ?? []].flat()
      .find(entry => typeof entry === 'object' && entry.id === id);
    if(found) {
      return found;
    }
  }
  return null;
}

/**
 * A jsonld.js document loader over the shipped contexts, did:key and `docs`
 * (a Map URL -> document).
 */
export function createDocumentLoader({docs = new Map()} = {}) {
  const given = url => docs.get(url) ??
    (url.startsWith('did:web:') ? docs.get(didWebUrl(url)) : undefined);
  const controllerDocument = url => {
    if(url.startsWith('did:key:')) {
      return didKeyDocument(url);
    }
    const document = given(url);
    return document === undefined ? undefined :
      withAbsoluteIds(document, document.id ?? url);
  };
  return async function documentLoader(url) {
    const answer = document => ({contextUrl: null, documentUrl: url, document});
    if(CONTEXTS.has(url)) {
      return answer(CONTEXTS.get(url));
    }
    const [base, fragment] = url.split('#');
    const whole = controllerDocument(base);
    if(whole === undefined) {
      throw new Error(`${url} is not available offline ` +
        '(not a shipped context, not a did:key, not in the docs map)');
    }
    if(fragment === undefined) {
      return answer(whole);
    }
    const node = nodeWithId(whole, url);
    if(!node) {
      throw new Error(`${base} has no verification method ${url}`);
    }
    return answer({'@context': whole['@context'], ...node});
  };
}
