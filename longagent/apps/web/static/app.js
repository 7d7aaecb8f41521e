// longagent web app: the little that HTMX does not do. No inline scripts anywhere (CSP).
(function () {
  "use strict";

  // A citation carries the UTF-16 offsets of its span in the document text (computed by
  // the server); the document pane holds that text as one text node, so the span is a
  // Range over it. Only one passage is highlighted at a time.
  function highlight(start, end) {
    var doc = document.getElementById("doc-text");
    if (!doc) return null;
    var old = doc.querySelector("mark.cited");
    if (old) {
      old.replaceWith(document.createTextNode(old.textContent));
      doc.normalize();
    }
    var node = doc.firstChild;
    if (!node || node.nodeType !== Node.TEXT_NODE) return null;
    end = Math.min(end, node.length);
    if (!(start >= 0 && start < end)) return null;
    var range = document.createRange();
    range.setStart(node, start);
    range.setEnd(node, end);
    var mark = document.createElement("mark");
    mark.className = "cited";
    range.surroundContents(mark);
    mark.scrollIntoView({ block: "center", inline: "nearest" });
    return mark;
  }

  // A library document opened at a citation (#cited): centre the marked span in its pane
  // (the browser's own jump to the fragment puts it at the top edge).
  var cited = document.querySelector("#doc-text mark#cited");
  if (cited) cited.scrollIntoView({ block: "center", inline: "nearest" });

  document.addEventListener("click", function (event) {
    var cite = event.target.closest("button.cite");
    if (cite) {
      document.querySelectorAll("button.cite.active").forEach(function (b) {
        b.classList.remove("active");
      });
      if (highlight(Number(cite.dataset.start), Number(cite.dataset.end))) {
        cite.classList.add("active");
      }
      return;
    }
    var dismiss = event.target.closest(".flash .dismiss");
    if (dismiss) dismiss.parentElement.remove();
  });

  // After a form's request succeeded: clear the form and any old message.
  document.addEventListener("htmx:afterRequest", function (event) {
    var elt = event.detail.elt;
    if (elt.tagName === "FORM" && event.detail.successful) {
      elt.reset();
      var flash = document.getElementById("flash");
      if (flash) flash.replaceChildren();
    }
  });

  document.addEventListener("htmx:sendError", function () {
    var flash = document.getElementById("flash");
    if (!flash) return;
    var note = document.createElement("div");
    note.className = "flash error";
    note.textContent = "The server cannot be reached. Is longagent serve still running?";
    flash.replaceChildren(note);
  });

  document.addEventListener("htmx:afterSettle", function () {
    var conversation = document.getElementById("conversation");
    if (conversation) conversation.scrollTop = conversation.scrollHeight;
    var none = document.getElementById("no-questions");
    if (none && document.querySelector("#questions .qa")) none.remove();
  });
})();
