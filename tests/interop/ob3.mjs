// Open Badges 3.0 shape rules a verifier applies before any cryptography: errors make
// a document no OB 3.0 credential; recommendations fail only under --strict.
const VC_V2 = 'https://www.w3.org/ns/credentials/v2';
const OB3_CONTEXT = /^https:\/\/purl\.imsglobal\.org\/spec\/ob\/v3p0\/context(-3\.0\.\d+)?\.json$/;
const DATE_TIME_STAMP =
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

const list = value => value === undefined ? [] : [value].flat();

export function ob3Problems(credential) {
  const errors = [];
  const recommendations = [];
  const contexts = list(credential['@context']);
  const types = list(credential.type);
  if(contexts[0] !== VC_V2) {
    errors.push(`the first @context must be ${VC_V2}`);
  }
  if(!contexts.some(c => OB3_CONTEXT.test(c))) {
    errors.push('no Open Badges 3.0 @context');
  }
  if(!types.includes('VerifiableCredential')) {
    errors.push('type lacks VerifiableCredential');
  }
  const endorsement = types.includes('EndorsementCredential');
  if(!endorsement && !types.includes('OpenBadgeCredential') &&
    !types.includes('AchievementCredential')) {
    errors.push('type lacks OpenBadgeCredential');
  }
  const issuer = credential.issuer;
  if(typeof (issuer?.id ?? issuer) !== 'string') {
    errors.push('no issuer id');
  } else if(typeof issuer !== 'object' || !list(issuer.type).includes('Profile')) {
    recommendations.push('the issuer should be a Profile object with a type');
  } else if(!issuer.name) {
    recommendations.push('the issuer profile has no name');
  }
  const subject = credential.credentialSubject;
  const achievement = subject?.achievement;
  if(endorsement) {
    // OB 3.0 EndorsementCredential: the subject is the endorsed thing, by id.
    if(!list(subject?.type).includes('EndorsementSubject')) {
      errors.push('credentialSubject type lacks EndorsementSubject');
    }
    if(typeof subject?.id !== 'string') {
      errors.push('the endorsement subject has no id');
    }
  } else if(!achievement || typeof achievement !== 'object') {
    errors.push('credentialSubject.achievement is missing');
  } else {
    if(!list(subject.type).includes('AchievementSubject')) {
      recommendations.push('credentialSubject type lacks AchievementSubject');
    }
    if(!subject.id && !subject.identifier) {
      recommendations.push('credentialSubject has neither id nor identifier');
    }
    for(const field of ['id', 'name', 'description', 'criteria']) {
      if(!achievement[field]) {
        recommendations.push(`achievement.${field} is missing`);
      }
    }
    if(!list(achievement.type).includes('Achievement')) {
      recommendations.push('achievement type lacks Achievement');
    }
  }
  for(const field of ['validFrom', 'validUntil']) {
    const value = credential[field];
    if(value !== undefined && !DATE_TIME_STAMP.test(value)) {
      errors.push(`${field} ${value} is not an XSD dateTimeStamp`);
    }
  }
  if(credential.validFrom === undefined) {
    errors.push('validFrom is missing');
  }
  for(const proof of list(credential.proof)) {
    if(proof?.created !== undefined && !DATE_TIME_STAMP.test(proof.created)) {
      recommendations.push(`proof created ${proof.created} has no time zone`);
    }
  }
  if(!credential.name) {
    recommendations.push('the credential has no name');
  }
  return {errors, recommendations};
}
