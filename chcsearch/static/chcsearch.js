/*
 * chcsearch search box: one file, no build step, no framework.
 *
 *   <input type="search" data-chcsearch>
 *   <script src="https://search.example.org/static/chcsearch.js"
 *           data-endpoint="https://search.example.org" defer></script>
 *
 * or, on a static site, over the bundle `chcsearch bundle` wrote (no service at all):
 *
 *   <script src="/search/chcsearch.js" data-bundle="/search/" defer></script>
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
  // data-bundle: the folder `chcsearch bundle` wrote; the box then searches it in the browser
  var bundle = script && script.getAttribute("data-bundle");
  var DEBOUNCE_MS = 120;
  var LIMIT = 8;
  var MAX_PAGE = 20;                       // the API serves pages 1–20
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

  function now() {
    return window.performance && performance.now ? performance.now() : Date.now();
  }

  // ---- serve mode: the JSON API of `chcsearch serve` -------------------------------------

  function ServiceBackend(base) {
    this.base = base;
    this.controller = null;
  }

  ServiceBackend.prototype.search = function (query, sections, page, limit) {
    if (this.controller) this.controller.abort();
    this.controller = typeof AbortController === "function" ? new AbortController() : null;
    var params = "q=" + encodeURIComponent(query) + "&limit=" + limit + (page > 1 ? "&page=" + page : "");
    for (var i = 0; i < sections.length; i++) params += "&section=" + encodeURIComponent(sections[i]);
    return fetch(this.base + "/api/search?" + params, this.controller ? { signal: this.controller.signal } : {})
      .then(function (response) {
        return response.json().then(function (data) {
          if (response.ok) return data;
          var error = new Error(data && data.error ? data.error : "");
          error.refused = Boolean(data && data.error);
          throw error;
        });
      });
  };

  ServiceBackend.prototype.suggest = function (query) {
    return fetch(this.base + "/api/suggest?q=" + encodeURIComponent(query))
      .then(function (response) { return response.ok ? response.json() : { suggestions: [] }; });
  };

  // ---- static mode: the Pagefind bundle `chcsearch bundle` wrote ---------------------------
  //
  // Each page and each PDF page is a Pagefind record; its metadata says which page it
  // groups under (group, group_title, group_url), where it links (link: …pdf#page=N) and
  // its breadcrumb. Pagefind finds records holding every word of the query; a question
  // rarely has all its words on one page, so the words are also searched one by one and
  // the records holding some of them follow, those with more of the words first.

  var STOP_WORDS = {};
  ("a about all an and are as at be by can did do does for from had has have how i if in into is it its " +
   "me my of on or our that the their them there these they this to was we were what when where which " +
   "who why will with you your").split(" ").forEach(function (word) { STOP_WORDS[word] = true; });
  var RECORDS_PER_PAGE = 48;              // most records whose data one page of results loads
  var BATCH = 16;                         // records whose data is loaded at a time
  var statics = {};

  function staticBackend(base) {
    var url = new URL(base.replace(/\/*$/, "/"), document.baseURI).href;
    if (!statics[url]) statics[url] = new StaticBackend(url);
    return statics[url];
  }

  function StaticBackend(base) {
    this.base = base;
    this.ready = null;
    this.info = {};
    this.searches = {};                   // query and filters → their merged, grouped results
    this.vocabulary = null;
  }

  StaticBackend.prototype.load = function () {
    var self = this;
    if (!this.ready) {
      this.ready = Promise.all([
        import(this.base + "pagefind/pagefind.js"),
        fetch(this.base + "chcsearch-bundle.json").then(function (r) { return r.ok ? r.json() : {}; }),
        fetch(this.base + "chcsearch-results.json").then(function (r) { return r.ok ? r.json() : null; })
          .catch(function () { return null; })
      ]).then(function (loaded) {
        self.pagefind = loaded[0];
        self.info = loaded[1] || {};
        var table = loaded[2];
        self.table = table && table.records && Array.isArray(table.groups) && Array.isArray(table.reports) ? table : null;
        return self.pagefind.options({ basePath: self.base + "pagefind/", excerptLength: 24 });
      }).then(function () { return self.pagefind.init(); })
        // without the result table, chips count Pagefind's results per filter value, which it
        // does only once the filters are loaded
        .then(function () { return self.table ? null : self.pagefind.filters(); });
      this.ready.catch(function () { self.ready = null; });   // try again on the next query
    }
    return this.ready;
  };

  function queryWords(query) {
    var words = String(query).toLowerCase().match(/[\p{L}\p{N}][\p{L}\p{N}'’-]*/gu) || [];
    var seen = {}, kept = [];
    for (var i = 0; i < words.length; i++) {
      var word = words[i].replace(/['’-]+$/, "");
      if (!seen[word] && !STOP_WORDS[word]) { seen[word] = true; kept.push(word); }
    }
    return kept.slice(0, 12);              // each is a search of its own
  }

  StaticBackend.prototype.merged = function (query, sections) {
    var self = this;
    var options = sections.length ? { filters: { section: { any: sections } } } : {};
    var words = queryWords(query);
    var whole = this.pagefind.search(query, options);
    var single = words.length > 1 ? words.map(function (word) { return self.pagefind.search(word, options); }) : [];
    return Promise.all([whole].concat(single)).then(function (answers) {
      var first = answers[0] || { results: [], filters: {} };
      var order = [], known = {};
      for (var i = 0; i < first.results.length; i++) {
        known[first.results[i].id] = true;
        order.push(first.results[i]);
      }
      var partial = {};
      for (var a = 1; a < answers.length; a++) {
        var results = (answers[a] && answers[a].results) || [];
        for (var r = 0; r < results.length; r++) {
          var result = results[r];
          if (known[result.id]) continue;
          var entry = partial[result.id] || (partial[result.id] = { result: result, words: 0, score: 0 });
          entry.words += 1;
          entry.score += result.score;
        }
      }
      var rest = Object.keys(partial).map(function (id) { return partial[id]; });
      rest.sort(function (x, y) { return y.words - x.words || y.score - x.score; });
      for (var k = 0; k < rest.length; k++) order.push(rest[k].result);
      var counted = first.results.length ? first : answers.slice(1).reduce(function (best, answer) {
        return answer && answer.results.length > best.results.length ? answer : best;
      }, first);
      var state = {
        order: order, loaded: 0, groups: [], byKey: {},
        filters: (counted.filters && counted.filters.section) || {},
        matched: order.length, grouped: false
      };
      self.group(state);
      return state;
    });
  };

  // With the bundle's result table, every result is grouped at once, without fetching its
  // data: only the results shown fetch theirs, for their snippets. Without it (or for a
  // result it does not know), each result's data is read, in rank order, as they are shown.
  StaticBackend.prototype.group = function (state) {
    var table = this.table;
    if (!table) return;
    var i, record;
    for (i = 0; i < state.order.length; i++) {
      if (!Object.prototype.hasOwnProperty.call(table.records, state.order[i].id)) return;
    }
    for (i = 0; i < state.order.length; i++) {
      var result = state.order[i];
      record = table.records[result.id];
      var head = table.groups[record[0]] || [];
      var group = state.byKey[record[0]];
      var report = record[2] >= 0 && table.reports[record[2]] ?
        String(table.reports[record[2]]) + "#page=" + Number(record[1]) : "";
      if (!group) {
        group = state.byKey[record[0]] = {
          id: String(head[1] || record[0]), source: String(head[1] || ""), kind: "page",
          title: String(head[0] || ""), url: String(head[1] || ""), group_url: String(head[1] || ""),
          breadcrumb: Array.isArray(head[2]) ? head[2].map(String) : [],
          section: String(head[3] || ""), snippet_html: "", parts: [], lead: null, own: null, page: null
        };
        if (report) at(group, report, record[1], record[3]);
        state.groups.push(group);
      }
      if (record[2] >= 0) {
        if (group.parts.length < 5 && report) {
          group.parts.push({ kind: "pdf", page: Number(record[1]) || 0, page_label: record[3] ? String(record[3]) : "",
                             url: report, snippet: "" });
        }
        if (!group.lead) group.lead = result;
      } else if (!group.own) {
        group.own = result;
      }
    }
    state.loaded = state.order.length;
    state.grouped = true;
  };

  // The snippets of the shown results: from where each result points (its best record): the
  // page's own excerpt, or its best report page's.
  StaticBackend.prototype.snippets = function (groups) {
    return Promise.all(groups.map(function (group) {
      var source = group.kind === "pdf" ? group.lead || group.own : group.own || group.lead;
      if (group.snippet_html || !source) return null;
      return source.data().then(function (data) { group.snippet_html = bodyExcerpt(data) || " "; });
    }));
  };

  // Pagefind's excerpt, but from the body: a record's title, breadcrumb and headings come
  // first in its content (they are weighted there), and the result shows them already.
  var EXCERPT_WORDS = 30;
  function bodyExcerpt(data) {
    if (!data) return "";
    var lead = Number(data.meta && data.meta.lead) || 0;
    var words = String(data.content || "").split(/\s+/);
    var found = (data.locations || []).filter(function (at) { return at >= lead && at < words.length; });
    if (!lead || !found.length) return data.excerpt || "";
    var best = found[0], most = 0;
    for (var i = 0; i < found.length; i++) {
      var inside = 0;
      for (var j = i; j < found.length && found[j] < found[i] + EXCERPT_WORDS; j++) inside++;
      if (inside > most) { most = inside; best = found[i]; }
    }
    var start = Math.max(lead, best - 6), end = Math.min(words.length, start + EXCERPT_WORDS);
    var marked = {};
    for (var k = 0; k < found.length; k++) marked[found[k]] = true;
    var out = [];
    for (var w = start; w < end; w++) {
      // Pagefind's content is the page's text as it is: made HTML here, only <mark> added
      var word = words[w].replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
      out.push(marked[w] ? "<mark>" + word + "</mark>" : word);
    }
    return out.join(" ");
  }

  function parsedList(text) {
    try {
      var value = JSON.parse(text || "[]");
      return Array.isArray(value) ? value.map(String) : [];
    } catch (error) {
      return [];
    }
  }

  // A result is where its best text is (as the service's results): when its best record is a
  // PDF page, its kind, URL and page are that page's; its heading page's own URL is group_url.
  function at(group, url, page, label) {
    group.kind = "pdf";
    group.url = url;
    group.page = Number(page) || 0;
    group.page_label = label ? String(label) : "";
  }

  // A record's data into the result it belongs to: its page's, with its report pages as parts.
  StaticBackend.prototype.place = function (state, data) {
    var meta = data.meta || {};
    var pdf = meta.kind === "pdf";
    var key = meta.group || meta.source || meta.link || data.url;
    var group = state.byKey[key];
    if (!group) {
      var own = pdf ? meta.group_url || String(meta.link || "").split("#")[0] : meta.link;
      group = state.byKey[key] = {
        id: key, source: key, kind: "page",
        title: pdf ? meta.group_title || meta.title : meta.title,
        url: own, group_url: own,
        breadcrumb: parsedList(pdf && meta.group_title ? meta.group_crumbs : meta.crumbs),
        snippet_html: data.excerpt || "",
        parts: []
      };
      if (pdf && meta.link) at(group, meta.link, meta.page, meta.page_label);
      state.groups.push(group);
    }
    if (pdf) {
      if (group.parts.length < 5) {
        group.parts.push({ kind: "pdf", page: Number(meta.page) || 0, page_label: meta.page_label || "",
                           url: meta.link, snippet: String(data.excerpt || "").replace(/<\/?mark>/g, "") });
      }
    } else if (!group.head) {
      group.head = true;
      if (group.kind !== "pdf") group.snippet_html = data.excerpt || group.snippet_html;
    }
  };

  // Load records' data in rank order until `wanted` results exist or the budget is spent.
  StaticBackend.prototype.fill = function (state, wanted, budget) {
    var self = this;
    if (state.groups.length >= wanted || state.loaded >= state.order.length || budget <= 0) {
      return Promise.resolve(state);
    }
    var batch = state.order.slice(state.loaded, state.loaded + Math.min(BATCH, budget));
    state.loaded += batch.length;
    return Promise.all(batch.map(function (result) { return result.data(); })).then(function (datas) {
      for (var i = 0; i < datas.length; i++) self.place(state, datas[i]);
      return self.fill(state, wanted, budget - batch.length);
    });
  };

  StaticBackend.prototype.facets = function (state, sections) {
    var titles = this.info.sections || {};
    var bases = sections.length ? sections : [""];
    var facets = [];
    if (state.grouped) {                   // results per section, as serve counts them
      state.filters = {};
      for (var g = 0; g < state.groups.length; g++) {
        if (!state.groups[g].section) continue;      // the site's home page: no section
        var path = state.groups[g].section.split("/");
        for (var d = 1; d <= path.length; d++) {
          var prefix = path.slice(0, d).join("/");
          state.filters[prefix] = (state.filters[prefix] || 0) + 1;
        }
      }
    }
    for (var value in state.filters) {
      if (!Object.prototype.hasOwnProperty.call(state.filters, value) || !state.filters[value]) continue;
      for (var b = 0; b < bases.length; b++) {
        var base = bases[b];
        var depth = base ? base.split("/").length : 0;
        var inside = !base || value.indexOf(base + "/") === 0;
        if (inside && value.split("/").length === depth + 1) {
          facets.push({ value: value, count: state.filters[value], title: titles[value] || value.split("/").pop() });
          break;
        }
      }
    }
    facets.sort(function (x, y) { return y.count - x.count || (x.value < y.value ? -1 : 1); });
    for (var s = 0; s < sections.length; s++) {
      if (titles[sections[s]]) facets.push({ value: sections[s], count: 0, title: titles[sections[s]] });
    }
    return facets;
  };

  // Words the site does not have are corrected first, as `chcsearch serve` does: Pagefind
  // would otherwise answer a misspelt word with pages that share its first letters.
  StaticBackend.prototype.search = function (query, sections, page, limit) {
    var self = this;
    var key = JSON.stringify([query, sections]);
    var correction = "";
    return Promise.all([this.load(), this.loadVocabulary()]).then(function (loaded) {
      correction = corrected(query, loaded[1], false);
      if (!self.searches[key]) {
        self.searches = {};                 // keep only the query being paged
        self.searches[key] = self.merged(correction || query, sections);
      }
      return self.searches[key];
    }).then(function (state) {
      return self.fill(state, page * limit + 1, RECORDS_PER_PAGE * page - state.loaded);
    }).then(function (state) {
      return self.snippets(state.groups.slice((page - 1) * limit, page * limit)).then(function () { return state; });
    }).then(function (state) {
      var results = state.groups.slice((page - 1) * limit, page * limit);
      var more = state.groups.length > page * limit || state.loaded < state.order.length;
      var exact = state.loaded >= state.order.length;
      var total = state.groups.length;
      return {
        query: query, corrected_query: correction || null,
        page: page, limit: limit, results: results, total: total, has_more: more,
        total_text: exact ? (total === 1 ? "1 result" : total + " results") :
          state.matched + " matching pages",
        facets: { section: self.facets(state, sections) }
      };
    });
  };

  function editDistance(a, b, limit) {
    if (Math.abs(a.length - b.length) > limit) return limit + 1;
    var previous = [], current;
    for (var j = 0; j <= b.length; j++) previous.push(j);
    for (var i = 1; i <= a.length; i++) {
      current = [i];
      var best = i;
      for (var k = 1; k <= b.length; k++) {
        var cost = a.charAt(i - 1) === b.charAt(k - 1) ? 0 : 1;
        current.push(Math.min(previous[k] + 1, current[k - 1] + 1, previous[k - 1] + cost));
        best = Math.min(best, current[k]);
      }
      if (best > limit) return limit + 1;
      previous = current;
    }
    return previous[b.length];
  }

  StaticBackend.prototype.loadVocabulary = function () {
    var self = this;
    if (!this.vocabulary) {
      this.vocabulary = fetch(this.base + "chcsearch-vocabulary.json")
        .then(function (r) { return r.ok ? r.json() : { words: "" }; })
        .then(function (data) {
          var words = data && typeof data.words === "string" && data.words ? data.words.split("\n") : [];
          var known = {};
          for (var i = 0; i < words.length; i++) known[words[i]] = true;
          return { words: words, known: known };
        }, function () {
          self.vocabulary = null;           // fetch it again next time; search on without it
          return { words: [], known: {} };
        });
    }
    return this.vocabulary;
  };

  // The query with each word the site does not have replaced by the most frequent word it
  // has one edit away (two for words of six letters or more); "" when nothing changes. A
  // word that begins words of the site is kept (Pagefind finds those as you type), or, with
  // `complete`, replaced by the most frequent of them.
  var MAX_CORRECTED = 8;                  // unknown words looked up in one query (each scans the vocabulary)
  function corrected(query, vocabulary, complete) {
    if (!vocabulary.words.length) return "";
    var changed = false, tried = 0;
    var text = String(query).replace(/\p{L}{3,}/gu, function (word) {
      var lower = word.toLowerCase();
      if (vocabulary.known[lower] || STOP_WORDS[lower] || lower.length > 40 || ++tried > MAX_CORRECTED) return word;
      var words = vocabulary.words, i;
      for (i = 0; i < words.length; i++) {
        if (words[i].lastIndexOf(lower, 0) === 0) {
          if (!complete) return word;
          changed = true;
          return words[i];
        }
      }
      var limit = lower.length >= 6 ? 2 : 1, best = null, bestDistance = limit + 1;
      for (i = 0; i < words.length && bestDistance > 1; i++) {
        var distance = editDistance(lower, words[i], limit);
        if (distance < bestDistance) { best = words[i]; bestDistance = distance; }
      }
      if (!best) return word;
      changed = true;
      return best;
    });
    return changed ? text : "";
  }

  StaticBackend.prototype.suggest = function (query) {
    return this.loadVocabulary().then(function (vocabulary) {
      var text = corrected(query, vocabulary, true);
      return { suggestions: text ? [{ text: text, kind: "query" }] : [] };
    });
  };

  function SearchBox(input) {
    var id = "chcsearch-" + (++counter);
    this.input = input;
    this.sections = [];
    this.titles = {};                          // section value → its title, from the facets seen
    this.active = -1;
    this.options = [];
    this.seen = {};
    this.timer = null;
    this.serial = 0;
    this.query = "";
    this.page = 0;
    this.total = 0;
    this.backend = bundle ? staticBackend(bundle) : new ServiceBackend(endpoint);

    this.panel = el("div", "chcsearch-panel");
    this.panel.hidden = true;
    this.status = el("div", "chcsearch-status");
    this.status.setAttribute("role", "status");
    this.status.setAttribute("aria-live", "polite");
    this.chips = el("div", "chcsearch-chips");
    this.empty = el("div", "chcsearch-empty");
    this.empty.hidden = true;
    this.list = el("ul", "chcsearch-results");
    this.list.id = id + "-listbox";
    this.list.setAttribute("role", "listbox");
    this.list.setAttribute("aria-label", "Search results");
    this.more = el("button", "chcsearch-more", "More results");
    this.more.type = "button";
    this.more.hidden = true;
    this.panel.appendChild(this.status);
    this.panel.appendChild(this.chips);
    this.panel.appendChild(this.empty);
    this.panel.appendChild(this.list);
    this.panel.appendChild(this.more);
    // Right after the input, so Tab reaches the chips and "More results" next; the panel is
    // position: fixed (see place()), so it takes no room in the host page's layout.
    input.insertAdjacentElement("afterend", this.panel);

    input.classList.add("chcsearch-input");
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", this.list.id);
    input.setAttribute("autocomplete", "off");
    var placeholder = input.getAttribute("placeholder") || "";
    if (!input.hasAttribute("size") && placeholder.length + 3 > 20) {
      input.setAttribute("size", String(placeholder.length + 3));   // so the placeholder is not cut
    }
    this.id = id;

    var self = this;
    input.addEventListener("input", function () { self.schedule(); });
    // back in the box with its query still there: show its results again
    input.addEventListener("focus", function () {
      if (self.panel.hidden && self.query && self.input.value.trim() === self.query && self.options.length) self.open();
    });
    input.addEventListener("keydown", function (event) { self.key(event); });
    this.more.addEventListener("click", function (event) {
      event.preventDefault();
      self.fetchPage(self.page + 1);
    });
    document.addEventListener("click", function (event) {
      if (event.target !== input && !self.panel.contains(event.target) && document.contains(event.target)) self.close();
    });
    var replace = function () { if (!self.panel.hidden) self.place(); };
    window.addEventListener("resize", replace);
    window.addEventListener("scroll", replace, true);
  }

  SearchBox.prototype.schedule = function () {
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.search(); }, DEBOUNCE_MS);
  };

  var MAX_QUERY = 500;                    // characters, as the service allows
  SearchBox.prototype.search = function () {
    var query = this.input.value.trim().slice(0, MAX_QUERY);
    if (!query) { this.close(); return; }
    this.query = query;
    this.fetchPage(1);
  };

  SearchBox.prototype.fetchPage = function (page) {
    var self = this;
    var serial = ++this.serial;
    var started = now();
    if (page > 1) this.more.setAttribute("aria-busy", "true");
    this.backend.search(this.query, this.sections.slice(), page, LIMIT)
      .then(function (data) {
        if (serial !== self.serial) return;
        self.more.removeAttribute("aria-busy");
        self.render(data, page > 1, serial);
        self.input.dispatchEvent(new CustomEvent("chcsearch:results", {
          detail: { query: self.query, page: page, ms: now() - started, results: self.options.length, total: data.total || 0 }
        }));
      }, function (error) {
        if (error && error.name === "AbortError") return;
        if (serial !== self.serial) return;
        self.more.removeAttribute("aria-busy");
        self.message(error && error.message && error.refused ? "Search could not run: " + error.message : "Search is unavailable right now. Please try again later.");
      });
  };

  // The panel floats over the page: fixed to the viewport under (or above) its input, kept
  // inside the viewport, scrolling inside its own maximum height.
  SearchBox.prototype.place = function () {
    var panel = this.panel;
    var box = this.input.getBoundingClientRect();
    var viewWidth = document.documentElement.clientWidth || window.innerWidth;
    var viewHeight = window.innerHeight;
    var gap = 4, edge = 8;
    var width = Math.min(Math.max(box.width, 360), viewWidth - 2 * edge);
    // under the input's left edge, or, if the panel is wider than the room there, under its right edge
    var left = box.left + width <= viewWidth - edge ? box.left : Math.max(edge, Math.min(box.right, viewWidth - edge) - width);
    var below = viewHeight - box.bottom - gap - edge;
    var above = box.top - gap - edge;
    var up = below < 200 && above > below;
    var height = Math.max(120, Math.min(up ? above : below, viewHeight * 0.7));
    panel.style.width = width + "px";
    panel.style.maxHeight = height + "px";
    panel.style.left = left + "px";
    panel.style.top = (up ? box.top - gap - Math.min(height, panel.offsetHeight || height) : box.bottom + gap) + "px";
    // a transformed ancestor makes "fixed" relative to itself: correct by what was measured
    var actual = panel.getBoundingClientRect();
    var wantLeft = left, wantTop = parseFloat(panel.style.top);
    if (Math.abs(actual.left - wantLeft) > 0.5) panel.style.left = (2 * wantLeft - actual.left) + "px";
    if (Math.abs(actual.top - wantTop) > 0.5) panel.style.top = (2 * wantTop - actual.top) + "px";
  };

  SearchBox.prototype.open = function () {
    this.panel.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.place();
  };

  SearchBox.prototype.close = function () {
    this.panel.hidden = true;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
    this.active = -1;
  };

  SearchBox.prototype.clear = function () {
    this.list.textContent = "";
    this.chips.textContent = "";
    this.empty.textContent = "";
    this.empty.hidden = true;
    this.more.hidden = true;
    this.options = [];
    this.seen = {};
    this.active = -1;
    this.input.removeAttribute("aria-activedescendant");
  };

  SearchBox.prototype.message = function (text) {
    this.clear();
    this.status.textContent = text;
    this.open();
  };

  SearchBox.prototype.sectionTitle = function (value) {
    return this.titles[value] || value;
  };

  SearchBox.prototype.render = function (data, append, serial) {
    var self = this;
    if (!append) this.clear();
    var facets = (data.facets && data.facets.section) || [];
    for (var t = 0; t < facets.length; t++) {
      if (facets[t].title) this.titles[facets[t].value] = facets[t].title;
    }
    this.total = data.total || 0;
    this.page = data.page || 1;
    var limit = data.limit || LIMIT;

    if (!append) {
      for (var s = 0; s < this.sections.length; s++) {
        this.chips.appendChild(this.chip(this.sections[s], this.sectionTitle(this.sections[s]), null, true));
      }
      for (var f = 0; f < facets.length; f++) {
        if (this.sections.indexOf(facets[f].value) === -1) {
          this.chips.appendChild(this.chip(facets[f].value, facets[f].title || facets[f].value, facets[f].count, false));
        }
      }
    }

    var results = data.results || [];
    for (var r = 0; r < results.length; r++) {
      var key = results[r].id || results[r].url;
      if (this.seen[key]) continue;
      this.seen[key] = true;
      this.addResult(results[r]);
    }

    var shown = this.options.length;
    var note = data.corrected_query ? " (searched for “" + data.corrected_query + "”)" : "";
    if (!this.total) {
      this.status.textContent = "No results for “" + this.query + "”" + note;
      this.offerAlternatives(data, serial);
    } else if (data.total_text) {
      this.status.textContent = data.total_text + note + ", showing " + shown;
    } else {
      this.status.textContent = (this.total === 1 ? "1 result" : this.total + " results") + note +
        (shown < this.total ? ", showing " + shown : "");
    }
    this.more.hidden = typeof data.has_more === "boolean" ? !(data.has_more && this.page < MAX_PAGE) :
      !(results.length && shown < this.total && this.page * limit < this.total && this.page < MAX_PAGE);
    if (!this.more.hidden) this.more.textContent = data.total_text ? "More results (" + shown + " shown)" : "More results (" + shown + " of " + this.total + " shown)";
    else if (append && document.activeElement === this.more) this.input.focus();
    this.open();
  };

  SearchBox.prototype.addResult = function (hit) {
    var self = this;
    var index = this.options.length;
    var item = el("li", "chcsearch-result");
    item.id = this.id + "-option-" + index;
    item.setAttribute("role", "option");
    item.setAttribute("aria-selected", "false");
    // the title links where the best text is: a PDF result opens its report at that page
    var pdfPage = hit.kind === "pdf" && hit.page ? " · p. " + (hit.page_label || hit.page) : "";
    var link = el("a", "chcsearch-title", hit.title + pdfPage);
    link.href = safeUrl(hit.url);
    link.tabIndex = -1;
    item.appendChild(link);
    var crumbs = hit.breadcrumb && hit.breadcrumb.length ? hit.breadcrumb.join(" › ") : "";
    var ownPage = hit.group_url && hit.group_url !== hit.url && hit.group_url.indexOf("#") < 0;
    if (crumbs || ownPage) {
      var trail = el("div", "chcsearch-breadcrumb", crumbs);
      if (ownPage) {
        // the page that heads the result, still one click away
        if (crumbs) trail.appendChild(document.createTextNode(" › "));
        var pageLink = el("a", "chcsearch-page", hit.title);
        pageLink.href = safeUrl(hit.group_url);
        pageLink.tabIndex = -1;
        trail.appendChild(pageLink);
      }
      item.appendChild(trail);
    }
    var snippet = el("div", "chcsearch-snippet");
    snippet.appendChild(highlighted(hit.snippet_html));
    item.appendChild(snippet);
    var pages = reportPages(hit.parts, hit.url);
    if (pages.length) {
      var partLine = el("div", "chcsearch-parts", "In the report: ");
      for (var p = 0; p < pages.length; p++) {
        var partLink = el("a", "chcsearch-part", "p. " + (pages[p].page_label || pages[p].page));
        partLink.href = safeUrl(pages[p].url);
        partLink.tabIndex = -1;
        partLink.title = pages[p].snippet || "";
        partLine.appendChild(partLink);
        if (p < pages.length - 1) partLine.appendChild(document.createTextNode(", "));
      }
      item.appendChild(partLine);
    }
    item.addEventListener("mousemove", function () { if (self.active !== index) self.highlight(index); });
    this.list.appendChild(item);
    this.options.push({ node: item, url: link.href });
  };

  // The report pages of a result, in page order, each page once, but the one its title opens.
  function reportPages(parts, opened) {
    var pages = [], seen = {};
    seen[opened] = true;
    for (var i = 0; i < (parts || []).length; i++) {
      var part = parts[i];
      if (part.kind !== "pdf" || !part.page || seen[part.url]) continue;
      seen[part.url] = true;
      pages.push(part);
    }
    return pages.sort(function (a, b) { return Number(a.page) - Number(b.page); });
  }

  // Nothing found: offer the corrected query or a suggestion, and the filter's removal.
  SearchBox.prototype.offerAlternatives = function (data, serial) {
    var self = this;
    var query = this.query;
    this.empty.hidden = false;
    var line = el("p", "chcsearch-didyoumean");
    this.empty.appendChild(line);
    if (this.sections.length) {
      var names = [];
      for (var i = 0; i < this.sections.length; i++) names.push(this.sectionTitle(this.sections[i]));
      var remove = el("button", "chcsearch-unfilter", "Remove the filter (" + names.join(", ") + ") and search everything");
      remove.type = "button";
      remove.addEventListener("click", function (event) {
        event.preventDefault();
        self.sections = [];
        self.search();
        self.input.focus();
      });
      this.empty.appendChild(remove);
    }
    var offer = function (text, url) {
      line.appendChild(document.createTextNode("Did you mean "));
      var choice;
      if (url) {
        choice = el("a", "chcsearch-suggestion", text);
        choice.href = safeUrl(url);
      } else {
        choice = el("button", "chcsearch-suggestion", text);
        choice.type = "button";
        choice.addEventListener("click", function (event) {
          event.preventDefault();
          self.input.value = text;
          self.search();
          self.input.focus();
        });
      }
      line.appendChild(choice);
      line.appendChild(document.createTextNode("?"));
    };
    var corrected = data.corrected_query;
    // a completed word (epilep*) is no spelling to offer: the suggestions below are better
    if (corrected && !/\*/.test(corrected) && corrected.toLowerCase() !== query.toLowerCase()) { offer(corrected, ""); return; }
    this.backend.suggest(query)
      .then(function (answer) {
        if (serial !== self.serial) return;
        var list = (answer && answer.suggestions) || [];
        for (var s = 0; s < list.length; s++) {
          if (list[s].text && list[s].text.toLowerCase() !== query.toLowerCase()) {
            offer(list[s].text, list[s].kind === "title" ? list[s].url : "");
            return;
          }
        }
      })
      .catch(function () { /* suggestions are a nicety; the message already says no results */ });
  };

  SearchBox.prototype.chip = function (value, label, count, selected) {
    var self = this;
    var button = el("button", "chcsearch-chip" + (selected ? " chcsearch-chip-on" : ""), label + (count ? " (" + count + ")" : ""));
    button.type = "button";
    button.setAttribute("data-section", value);
    if (selected) {
      var cross = el("span", "chcsearch-chip-remove", "×");
      cross.setAttribute("aria-hidden", "true");
      button.appendChild(cross);
      button.setAttribute("aria-label", label + ", remove the filter");
      button.title = "Remove the filter";
    }
    button.setAttribute("aria-pressed", selected ? "true" : "false");
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
