// Ed25519 keys and eddsa-rdfc-2022 signing with Digital Bazaar's libraries, for tests
// that play a wallet or another issuer and for bench/node_sign_bench.mjs.
import * as vc from '@digitalbazaar/vc';
import * as Ed25519Multikey from '@digitalbazaar/ed25519-multikey';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022}
  from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import crypto from 'node:crypto';
import {createDocumentLoader} from './loader.mjs';

/**
 * A key pair from a 32-byte seed (hex; random when omitted), controlled by its
 * did:key, or by `did` with id `keyId` (default `${did}#key-1`). Has `.did`.
 */
export async function keyFromSeed({seedHex, did, keyId} = {}) {
  const seed = seedHex === undefined ? crypto.randomBytes(32) :
    Buffer.from(seedHex, 'hex');
  if(seed.length !== 32) {
    throw new Error('the seed must be 32 bytes (64 hex characters)');
  }
  const exported = await (await Ed25519Multikey.generate({seed}))
    .export({publicKey: true, secretKey: true});
  const controller = did ?? `did:key:${exported.publicKeyMultibase}`;
  const id = keyId ?? (did ? `${did}#key-1` :
    `${controller}#${exported.publicKeyMultibase}`);
  const key = await Ed25519Multikey.from({...exported, id, controller});
  return Object.assign(key, {did: controller});
}

/** `credential` (unsigned) with an eddsa-rdfc-2022 proof by `key`. */
export async function signCredential({credential, key, documentLoader}) {
  return vc.issue({
    credential: structuredClone(credential),
    suite: new DataIntegrityProof({signer: key.signer(), cryptosuite: eddsaRdfc2022}),
    documentLoader: documentLoader ?? createDocumentLoader()
  });
}
