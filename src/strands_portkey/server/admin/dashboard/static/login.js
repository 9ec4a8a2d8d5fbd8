// The sign-in page: carry ?next= into the form and say why the last attempt failed.
(function () {
  "use strict";
  const params = new URLSearchParams(window.location.search);
  const next = params.get("next");
  if (next && next.startsWith("/ui/")) document.getElementById("next").value = next;
  const reasons = {
    invalid: "That key was not accepted: it is unknown, revoked or expired.",
    origin: "The sign-in form was sent from another site; open the dashboard directly and try again.",
    unsupported: "This server has no gateway keys (start it with a store and keys) or runs without sign-in.",
  };
  const box = document.getElementById("login-message");
  const error = params.get("error");
  if (error) {
    box.textContent = reasons[error] || "Sign-in failed.";
    box.className = "notice error";
    box.hidden = false;
  } else if (params.get("signed_out")) {
    box.textContent = "You are signed out.";
    box.className = "notice";
    box.hidden = false;
  }
})();
