/* The Copy buttons of a page: a button[data-copy="<id>"] copies the text of the element
   with that id (a read-only textarea) to the clipboard and says so in the element named by
   its data-copy-status. The buttons are hidden in the HTML and shown here, so a page
   without scripts never offers a button that does nothing. (Included into a Django
   template: keep template tags out of it.) */
(function () {
  "use strict";

  function say(button, text) {
    var status = document.getElementById(button.getAttribute("data-copy-status"));
    if (status) status.textContent = text;
  }

  /* The clipboard API needs a secure context (https, or localhost); anywhere else the
     old way: select the text and ask the browser to copy the selection. */
  function copyBySelection(source) {
    source.focus();
    source.select();
    try {
      return document.execCommand("copy");
    } catch (error) {
      return false;
    }
  }

  function setUp(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    button.hidden = false;
    button.addEventListener("click", function () {
      var text = source.value !== undefined ? source.value : source.textContent;
      function fallback() {
        say(button, copyBySelection(source) ? "Copied." : "Select the text and copy it (Ctrl+C).");
      }
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { say(button, "Copied."); }, fallback);
      } else {
        fallback();
      }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll("button[data-copy]"), setUp);
})();
