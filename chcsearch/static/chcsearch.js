/*
 * chcsearch search box: one file, no build step, no framework.
 *
 *   <input type="search" data-chcsearch>
 *   <script src="https://search.example.org/static/chcsearch.js"
 *           data-endpoint="https://search.example.org" defer></script>
 *
 * Every <input data-chcsearch> becomes a search-as-you-type combobox:
 * results with highlighted snippets and breadcrumbs, section chips that
 * filter, report pages linked as ….pdf#page=N, arrow keys / Enter / Escape.
 * Text from the index is always inserted as text; only <mark> is made.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var endpoint = ((script && script.getAttribute("data-endpoint")) || "").replace(/\/+$/, "");
  var DEBOUNCE_MS = 120;
  var LIMIT = 8;
  var counter = 0;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  // snippet_html is escaped by the server with only <mark> added; rebuild it
  // from text nodes and <mark> elements anyway, so nothing else can ever run.
  function highlighted(html) {
    var fragment = document.createDocumentFragment();
    var parts = String(html || "").split(/(<mark>|<\/mark>)/);
    var marking = false;
    var scratch = document.createElement("textarea");
    for (var i = 0; i < parts.length; i++) {
      if (parts[i] === "<mark>") { marking = true; continue; }
      if (parts[i] === "</mark>") { marking = false; continue; }
      if (!parts[i]) continue;
      scratch.innerHTML = parts[i];           // decodes &amp; &lt; … inside a textarea: never markup
      var text = document.createTextNode(scratch.value);
      if (marking) {
        var mark = el("mark");
        mark.appendChild(text);
        fragment.appendChild(mark);
      } else {
        fragment.appendChild(text);
      }
    }
    return fragment;
  }

  function safeUrl(url) {
    var value = String(url || "");
    // "//host" and "/\host" lead to another host; control characters hide a scheme
    if (/[\u0000-\u001f\u007f\\]/.test(value) || /^\/\//.test(value)) {
      return "#";
    }
    return /^(https?:\/\/[^\/]|\/|#|\.{0,2}\/)/i.test(value) || /^[\w%.-]+(\/|$)/.test(value) ? value : "#";
  }

  function SearchBox(input) {
    var id = "chcsearch-" + (++counter);
    this.input = input;
    this.sections = [];
    this.active = -1;
    this.options = [];
    this.timer = null;
    this.controller = null;
    this.serial = 0;

    this.panel = el("div", "chcsearch-panel");
    this.panel.hidden = true;
    this.status = el("div", "chcsearch-status");
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    this.chips = el("div", "chcsearch-chips");
    this.list = el("ul", "chcsearch-results");
    this.list.id = id + "-listbox";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Search results");
    this.panel.appendChild(this.status);
    this.panel.appendChild(this.chips);
    this.panel.appendChild(this.list);
    input.insertAdjacentElement("afterend", this.panel);

    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.setAttribute("autocomplete", "off");
    this.id = id;

    var self = this;
    input.addEventListener("input", function () { self.schedule(); });
    input.addEventListener("keydown", function (event) { self.key(event); });
    document.addEventListener("click", function (event) {
      if (event.target !== input && !self.panel.contains(event.target)) self.close();
    });
  }

  SearchBox.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.search(); }, DEBOUNCE_MS);
  };

  SearchBox.prototype.search = function () {
    var self = this;
    var query = this.input.value.trim();
    if (!query) { this.close(); return; }
    if (this.controller) this.controller.abort();
    this.controller = typeof AbortController === "function" ? new AbortController() : null;
    var serial = ++this.serial;
    var params = "q=" + encodeURIComponent(query) + "&limit=" + LIMIT;
    for (var i = 0; i < this.sections.length; i++) params += "&section=" + encodeURIComponent(this.sections[i]);
    var options = this.controller ? { signal: this.controller.signal } : {};
    fetch(endpoint + "/api/search?" + params, options)
      .then(function (response) {
        return response.json().then(function (data) { return { ok: response.ok, data: data }; });
      })
      .then(function (answer) {
        if (serial !== self.serial) return;
        if (!answer.ok) { self.message(answer.data && answer.data.error ? "Search could not run: " + answer.data.error : "Search is unavailable right now."); return; }
        self.render(answer.data);
      })
      .catch(function (error) {
        if (error && error.name === "AbortError") return;
        if (serial === self.serial) self.message("Search is unavailable right now. Please try again later.");
      });
  };

  SearchBox.prototype.open = function () {
    this.panel.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
  };

  SearchBox.prototype.close = function () {
    this.panel.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  };

  SearchBox.prototype.message = function (text) {
    this.list.textContent = "";
    this.chips.textContent = "";
    this.options = [];
    this.active = -1;
    this.status.textContent = text;
    this.open();
  };

  SearchBox.prototype.render = function (data) {
    var self = this;
    this.list.textContent = "";
    this.chips.textContent = "";
    this.options = [];
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
    var total = data.total || 0;
    var note = data.corrected_query ? " (searched for “" + data.corrected_query + "”)" : "";
    this.status.textContent = total === 1 ? "1 result" + note : total + " results" + note;

    for (var s = 0; s < this.sections.length; s++) {
      this.chips.appendChild(this.chip(this.sections[s], this.sections[s], null, true));
    }
    var facets = (data.facets && data.facets.section) || [];
    for (var f = 0; f < facets.length; f++) {
      if (this.sections.indexOf(facets[f].value) === -1) {
        this.chips.appendChild(this.chip(facets[f].value, facets[f].title || facets[f].value, facets[f].count, false));
      }
    }

    var results = data.results || [];
    for (var r = 0; r < results.length; r++) {
      var hit = results[r];
      var item = el("li", "chcsearch-result");
      item.id = this.id + "-option-" + r;
      item.setAttribute("role", "option");
      item.setAttribute("aria-selected", "false");
      var link = el("a", "chcsearch-title", hit.title);
      link.href = safeUrl(hit.url);
      link.tabIndex = -1;
      item.appendChild(link);
      if (hit.breadcrumb && hit.breadcrumb.length) {
        item.appendChild(el("div", "chcsearch-breadcrumb", hit.breadcrumb.join(" › ")));
      }
      var snippet = el("div", "chcsearch-snippet");
      snippet.appendChild(highlighted(hit.snippet_html));
      item.appendChild(snippet);
      var pages = (hit.parts || []).filter(function (part) { return part.kind === "pdf" && part.page; });
      if (pages.length) {
        var partLine = el("div", "chcsearch-parts", "In the report: ");
        for (var p = 0; p < pages.length; p++) {
          var partLink = el("a", "chcsearch-part", "p. " + pages[p].page);
          partLink.href = safeUrl(pages[p].url);
          partLink.tabIndex = -1;
          partLink.title = pages[p].snippet || "";
          partLine.appendChild(partLink);
          if (p < pages.length - 1) partLine.appendChild(document.createTextNode(", "));
        }
        item.appendChild(partLine);
      }
      (function (index) {
        item.addEventListener("mousemove", function () { self.highlight(index); });
      })(r);
      this.list.appendChild(item);
      this.options.push({ node: item, url: link.href });
    }
    this.open();
  };

  SearchBox.prototype.chip = function (value, label, count, selected) {
    var self = this;
    var button = el("button", "chcsearch-chip" + (selected ? " chcsearch-chip-on" : ""), label + (count ? " (" + count + ")" : ""));
    button.type = "button";
    button.setAttribute("aria-pressed", selected ? "true" : "false");
    button.setAttribute("data-section", value);
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var at = self.sections.indexOf(value);
      if (at === -1) self.sections.push(value); else self.sections.splice(at, 1);
      self.search();
      self.input.focus();
    });
    return button;
  };

  SearchBox.prototype.highlight = function (index) {
    if (!this.options.length) return;
    if (this.active >= 0 && this.options[this.active]) {
      this.options[this.active].node.setAttribute("aria-selected", "false");
      this.options[this.active].node.classList.remove("chcsearch-active");
    }
    this.active = (index + this.options.length) % this.options.length;
    var option = this.options[this.active].node;
    option.setAttribute("aria-selected", "true");
    option.classList.add("chcsearch-active");
    this.input.setAttribute("aria-activedescendant", option.id);
    if (option.scrollIntoView) option.scrollIntoView({ block: "nearest" });
  };

  SearchBox.prototype.key = function (event) {
    if (event.key === "ArrowDown") {
      event.preventDefault();
      if (this.panel.hidden) { this.search(); return; }
      this.highlight(this.active + 1);
    } else if (event.key === "ArrowUp") {
      event.preventDefault();
      this.highlight(this.active < 0 ? this.options.length - 1 : this.active - 1);
    } else if (event.key === "Enter") {
      var choice = this.options[this.active >= 0 ? this.active : 0];
      if (choice && !this.panel.hidden) {
        event.preventDefault();
        window.location.href = choice.url;
      }
    } else if (event.key === "Escape") {
      if (!this.panel.hidden) { event.preventDefault(); this.close(); }
    }
  };

  function start() {
    var inputs = document.querySelectorAll("input[data-chcsearch]");
    for (var i = 0; i < inputs.length; i++) {
      if (!inputs[i].getAttribute("data-chcsearch-ready")) {
        inputs[i].setAttribute("data-chcsearch-ready", "1");
        new SearchBox(inputs[i]);
      }
    }
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
