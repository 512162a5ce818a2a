'use strict';
(function () {
  const q = new URLSearchParams(location.search);
  if (q.has('error')) document.getElementById('login-error').hidden = false;
  if (q.has('logout')) document.getElementById('login-out').hidden = false;
  SB.i18n.apply(document);
  SB.i18n.bindSwitch(document);
})();
