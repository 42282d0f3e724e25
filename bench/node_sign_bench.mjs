// Node reference rates for bench/credentials.py: signs and verifies one credential N times
// in-process with the ob3-verify stack (@digitalbazaar/vc + eddsa-rdfc-2022 + jsonld.js).
// Copied next to ob3-verify's verify.mjs at run time so its node_modules resolve.
//   node node_sign_bench.mjs UNSIGNED.json N
import fs from 'node:fs';
import * as vc from '@digitalbazaar/vc';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {keyFromSeed, signCredential} from './keys.mjs';
import {createDocumentLoader} from './loader.mjs';

const [file, nText] = process.argv.slice(2);
const n = Number(nText || 200);
const key = await keyFromSeed({});
const credential = JSON.parse(fs.readFileSync(file, 'utf8'));
delete credential.proof;
credential.issuer.id = key.did;
const documentLoader = createDocumentLoader();
const checkStatus = async () => ({verified: true});

let signed;
for(let i = 0; i < 20; i++) {  // warm-up: contexts, JIT
  signed = await signCredential({credential, key, documentLoader});
}
const cpuSeconds = start => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1e6;
};
let t0 = process.hrtime.bigint();
let c0 = process.cpuUsage();
for(let i = 0; i < n; i++) {
  signed = await signCredential({credential, key, documentLoader});
}
const signSeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const signCpu = cpuSeconds(c0);

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});
let result;
for(let i = 0; i < 20; i++) {
  result = await vc.verifyCredential({credential: signed, suite, documentLoader, checkStatus});
}
t0 = process.hrtime.bigint();
c0 = process.cpuUsage();
for(let i = 0; i < n; i++) {
  result = await vc.verifyCredential({credential: signed, suite, documentLoader, checkStatus});
}
const verifySeconds = Number(process.hrtime.bigint() - t0) / 1e9;
const verifyCpu = cpuSeconds(c0);
if(!result.verified) {
  console.error(JSON.stringify(result.error ?? result, null, 2));
  process.exit(1);
}
console.log(JSON.stringify({
  n, signed_per_s: n / signSeconds, verified_per_s: n / verifySeconds,
  signed_per_cpu_s: n / signCpu, verified_per_cpu_s: n / verifyCpu
}));
