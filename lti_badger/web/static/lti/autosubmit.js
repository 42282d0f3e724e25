// Posts the signed deep linking response back to the LMS as soon as the page loads
// (an external file: the Content-Security-Policy forbids inline scripts).
document.addEventListener("DOMContentLoaded", function () {
  var form = document.querySelector("form[data-autosubmit]");
  if (form) { form.submit(); }
});
