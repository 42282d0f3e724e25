// LTI Dynamic Registration 1.0 §3.6: tell the LMS that registration is done so it closes
// the registration window or iframe (an external file: the CSP forbids inline scripts).
document.addEventListener("DOMContentLoaded", function () {
  var target = window.opener || (window.parent !== window ? window.parent : null);
  if (target) { target.postMessage({ subject: "org.imsglobal.lti.close" }, "*"); }
});
