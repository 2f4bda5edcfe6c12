/* faithscope report: the example explorer.
 * Reads the one JSON blob (#fs-data), renders examples on demand (a page of PAGE cards at a time),
 * and filters/sorts them. Every text from data is set with textContent; no HTML is ever built
 * from data and no inline handler is used. Table cells and warnings carry a data-fs-filter
 * attribute (JSON) that this script turns into a filter of the explorer. */
(function () {
  "use strict";
  var PAGE = 50;
  var NONE = "__none__";
  var blobEl = document.getElementById("fs-data");
  var root = document.getElementById("fs-explorer");
  if (!blobEl || !root) { return; }
  var DATA = JSON.parse(blobEl.textContent);
  var DEFAULTS = {run: 0, gold: "", pred: "", correct: "", method: "", purpose: "a", flip: "", parse: "", trunc: "", sort: "index", q: ""};
  var state = copy(DEFAULTS);
  var shown = PAGE;
  var controls = {};
  var searchCache = {};

  function copy(o) { var r = {}; for (var k in o) { if (Object.prototype.hasOwnProperty.call(o, k)) { r[k] = o[k]; } } return r; }
  function el(tag, cls, text) {
    var e = document.createElement(tag);
    if (cls) { e.className = cls; }
    if (text !== undefined && text !== null) { e.textContent = String(text); }
    return e;
  }
  function fmt(x, d) { return (x === null || x === undefined || isNaN(x)) ? "\u2013" : Number(x).toFixed(d === undefined ? 3 : d); }
  function run() { return DATA.runs[state.run] || DATA.runs[0]; }
  function methodInfo(r, name) { for (var i = 0; i < r.methods.length; i++) { if (r.methods[i].name === name) { return r.methods[i]; } } return null; }
  function methodsFor(r) { return state.method ? [state.method] : r.methods.map(function (m) { return m.name; }); }
  function rat(ex, m, purpose) { var e = ex.m[m]; return e ? (e[purpose] || null) : null; }
  function masked(ex, m) { var e = ex.m[m]; return e ? (e.x || null) : null; }

  /* ---------- colours: PuOr diverging (colour-blind safe), white at 0 ---------- */
  var POS = [230, 97, 1], NEG = [94, 60, 153], MID = [247, 247, 247];
  function colour(t) {
    var a = Math.min(1, Math.abs(t)), end = t >= 0 ? POS : NEG, c = [];
    for (var i = 0; i < 3; i++) { c.push(Math.round(MID[i] + (end[i] - MID[i]) * a)); }
    return "rgb(" + c.join(",") + ")";
  }

  /* ---------- filtering and sorting ---------- */
  function haystack(r, ex) {
    var key = r.index + "\u0000" + ex.id;
    if (searchCache[key] === undefined) {
      var parts = [ex.id, ex.w.join(" ")];
      for (var m in ex.m) {
        if (!Object.prototype.hasOwnProperty.call(ex.m, m)) { continue; }
        ["a", "f"].forEach(function (p) { var x = ex.m[m][p]; if (x && x.r) { parts.push(x.r); } });
      }
      searchCache[key] = parts.join("\n").toLowerCase();
    }
    return searchCache[key];
  }
  function matches(r, ex) {
    if (state.gold && ex.gold !== state.gold) { return false; }
    if (state.pred) {
      if (state.pred === NONE) { if (ex.pred !== null) { return false; } } else if (ex.pred !== state.pred) { return false; }
    }
    if (state.correct === "yes" && !(ex.pred !== null && ex.pred === ex.gold)) { return false; }
    if (state.correct === "no" && (ex.pred !== null && ex.pred === ex.gold)) { return false; }
    var ms = methodsFor(r);
    if (state.method && !ex.m[state.method]) { return false; }
    if (state.flip) {
      var want = state.flip === "yes", any = false;
      ms.forEach(function (m) { var x = masked(ex, m); if (x && Boolean(x.flipped) === want) { any = true; } });
      if (!any) { return false; }
    }
    if (state.parse === "fail") {
      var bad = !state.method && ex.src === "unparseable";
      ms.forEach(function (m) { var x = rat(ex, m, state.purpose); if (x && x.ok === false) { bad = true; } });
      if (!bad) { return false; }
    }
    if (state.trunc === "yes" && !(ex.trunc > 0)) { return false; }
    if (state.q && haystack(r, ex).indexOf(state.q.toLowerCase()) < 0) { return false; }
    return true;
  }
  function meanOf(values) {
    var s = 0, n = 0;
    values.forEach(function (v) { if (v !== null && v !== undefined && !isNaN(v)) { s += v; n += 1; } });
    return n ? s / n : null;
  }
  function sortKey(r, ex) {
    var ms = methodsFor(r);
    if (state.sort.indexOf("f1") === 0) { return meanOf(ms.map(function (m) { var x = rat(ex, m, "a"); return x ? x.f1 : null; })); }
    if (state.sort.indexOf("dp") === 0) { return meanOf(ms.map(function (m) { var x = masked(ex, m); return x ? x.dp : null; })); }
    return ex.i;
  }
  function selected(r) {
    var out = r.examples.filter(function (ex) { return matches(r, ex); });
    if (state.sort !== "index") {
      var desc = /-desc$/.test(state.sort);
      var keyed = out.map(function (ex) { return [sortKey(r, ex), ex]; });
      keyed.sort(function (a, b) {
        if (a[0] === null && b[0] === null) { return a[1].i - b[1].i; }
        if (a[0] === null) { return 1; }
        if (b[0] === null) { return -1; }
        return (desc ? b[0] - a[0] : a[0] - b[0]) || (a[1].i - b[1].i);
      });
      out = keyed.map(function (k) { return k[1]; });
    }
    return out;
  }

  /* ---------- one example card ---------- */
  function wordsLine(ex, x, human) {
    var line = el("div", "words"), fieldAt = {};
    ex.fl.forEach(function (f) { fieldAt[f[1]] = f[0]; });
    var sel = {}, maxAbs = 0;
    if (x) { x.p.forEach(function (p) { sel[p] = true; }); }
    if (x && x.s) { x.s.forEach(function (v) { if (v !== null && Math.abs(v) > maxAbs) { maxAbs = Math.abs(v); } }); }
    for (var i = 0; i < ex.w.length; i++) {
      if (fieldAt[i] !== undefined) { line.appendChild(el("span", "field", fieldAt[i] + ":")); }
      var w = el("span", "w", ex.w[i]);
      if (human[i]) { w.classList.add("hu"); }
      if (sel[i]) { w.classList.add("sel"); }
      var tip = "word " + i;
      if (x && x.s && x.s[i] !== null && x.s[i] !== undefined) {
        var t = maxAbs > 0 ? x.s[i] / maxAbs : 0;
        w.style.backgroundColor = colour(t);
        if (Math.abs(t) > 0.65) { w.classList.add("dark"); }
        tip += " \u00b7 score " + x.s[i];
      }
      if (sel[i]) { tip += " \u00b7 selected"; }
      if (human[i]) { tip += " \u00b7 human rationale"; }
      w.title = tip;
      line.appendChild(w);
      line.appendChild(document.createTextNode(" "));
    }
    return line;
  }
  function maskText(mx, r) {
    if (!mx) { return null; }
    var box = el("div", "mask");
    if (state.purpose === "a") { box.appendChild(el("div", "note", "masking its PREDICTED-label rationale:")); }
    var flip = el("span", mx.flipped ? "flip yes" : "flip no", mx.flipped ? "flipped \u2192 " + mx.predicted : "not flipped");
    box.appendChild(flip);
    box.appendChild(el("span", "note", " \u0394p " + fmt(mx.dp) + " \u00b7 \u0394log p " + fmt(mx.dlp) + " \u00b7 masked " + (mx.n_masked === undefined ? "?" : mx.n_masked) + " words (" + r.mask + ")"));
    var skip = {flipped: 1, predicted: 1, dp: 1, dlp: 1, n_masked: 1, orig_predicted: 1, orig_logprob: 1, masked_logprob: 1, orig_prob: 1, masked_prob: 1, prompt_sha: 1};
    var extra = [];
    for (var k in mx) { if (Object.prototype.hasOwnProperty.call(mx, k) && !skip[k]) { extra.push(k + " = " + (typeof mx[k] === "object" ? JSON.stringify(mx[k]) : mx[k])); } }
    if (extra.length) { box.appendChild(el("div", "note", extra.join(" \u00b7 "))); }
    return box;
  }
  function distText(r, dist) {
    if (!dist) { return "no prediction"; }
    return r.labels.map(function (lab, i) { return lab + " " + fmt(dist[i], 2); }).join(" \u00b7 ");
  }
  function card(r, ex) {
    var c = el("div", "ex");
    c.setAttribute("data-ex-id", ex.id);
    var head = el("div", "exhead");
    head.appendChild(el("b", "exid", ex.id));
    var ok = ex.pred !== null && ex.pred === ex.gold;
    head.appendChild(el("span", null, " \u00b7 gold "));
    head.appendChild(el("span", "lab", ex.gold));
    head.appendChild(el("span", null, " \u00b7 predicted "));
    head.appendChild(el("span", "lab " + (ok ? "ok" : "bad"), ex.pred === null ? "(none)" : (ex.pred === "" ? "(unparseable)" : ex.pred)));
    head.appendChild(el("span", ok ? "ok" : "bad", ok ? " \u2713" : " \u2717"));
    head.appendChild(el("span", "note", " \u00b7 p: " + distText(r, ex.dist)));
    if (ex.trunc > 0) { head.appendChild(el("span", "bad", " \u00b7 truncated " + ex.trunc + " words")); }
    c.appendChild(head);
    var human = {};
    ex.h.forEach(function (p) { human[p] = true; });
    var table = el("table", "mt");
    var hr = el("tr"); hr.appendChild(el("th", null, "text (human underlined)")); var htd = el("td"); htd.appendChild(wordsLine(ex, {p: []}, human)); hr.appendChild(htd); hr.appendChild(el("td")); table.appendChild(hr);
    methodsFor(r).forEach(function (m) {
      if (m === "human") { return; }
      var info = methodInfo(r, m), x = rat(ex, m, state.purpose), mx = masked(ex, m);
      if (!x && !mx) { return; }
      var tr = el("tr"); tr.setAttribute("data-method", m);
      var th = el("th", null, info ? info.display : m);
      if (x) {
        th.appendChild(el("div", "note", "for " + x.t + (x.k !== undefined ? " \u00b7 k=" + x.k : "") + (state.purpose === "a" && x.f1 !== undefined ? " \u00b7 F1 " + fmt(x.f1, 2) : "")));
        if (x.ok === false) { th.appendChild(el("div", "bad", "reply not parsed")); }
      }
      tr.appendChild(th);
      var td = el("td");
      if (x && m !== "all" && m !== "all-words") { td.appendChild(wordsLine(ex, x, human)); }
      if (x && x.r !== undefined) {
        var d = el("details", "reply"); d.appendChild(el("summary", null, "raw reply" + (x.nf ? " \u00b7 not in input: " + x.nf.join(", ") : "")));
        d.appendChild(el("pre", null, x.r)); td.appendChild(d);
      }
      tr.appendChild(td);
      var mtd = el("td"); var mb = maskText(mx, r); if (mb) { mtd.appendChild(mb); } tr.appendChild(mtd);
      table.appendChild(tr);
    });
    c.appendChild(table);
    if (r.epochs && r.epochs.length) {
      var det = el("details", "epochs"); det.appendChild(el("summary", null, "this example across epochs"));
      var et = el("table", "mt");
      r.epochs.forEach(function (ep) {
        var e = ep.x[ex.id];
        if (!e) { return; }
        methodsFor(r).forEach(function (m, j) {
          if (m === "human" || m === "all" || m === "all-words") { return; }
          var x = e.m[m] ? e.m[m].a : null, mx = e.m[m] ? e.m[m].x : null;
          if (!x && !mx) { return; }
          var tr = el("tr"); tr.setAttribute("data-epoch", ep.epoch);
          var th = el("th", null, "epoch " + ep.epoch + " \u00b7 " + ((methodInfo(r, m) || {}).display || m));
          th.appendChild(el("div", "note", "predicted " + (e.pred === null ? "(none)" : e.pred) + " \u00b7 " + distText(r, e.dist) + (x && x.f1 !== undefined ? " \u00b7 F1 " + fmt(x.f1, 2) : "")));
          tr.appendChild(th);
          var td = el("td"); if (x) { td.appendChild(wordsLine(ex, x, human)); } tr.appendChild(td);
          var mtd = el("td"); var mb = maskText(mx, r); if (mb) { mtd.appendChild(mb); } tr.appendChild(mtd);
          et.appendChild(tr);
        });
      });
      det.appendChild(et); c.appendChild(det);
    }
    return c;
  }

  /* ---------- controls ---------- */
  function select(name, label, options) {
    var wrap = el("label", "ctl", label + " ");
    var s = el("select"); s.name = name; s.setAttribute("data-ctl", name);
    options.forEach(function (o) { var op = el("option", null, o[1]); op.value = o[0]; s.appendChild(op); });
    s.addEventListener("change", function () { state[name] = name === "run" ? Number(s.value) : s.value; if (name === "run") { fillRunOptions(); } shown = PAGE; render(); });
    wrap.appendChild(s); controls[name] = s;
    return wrap;
  }
  function fillSelect(s, options) {
    while (s.firstChild) { s.removeChild(s.firstChild); }
    options.forEach(function (o) { var op = el("option", null, o[1]); op.value = o[0]; s.appendChild(op); });
  }
  function fillRunOptions() {
    var r = run();
    var labs = r.labels.map(function (l) { return [l, l]; });
    fillSelect(controls.gold, [["", "any"]].concat(labs));
    fillSelect(controls.pred, [["", "any"]].concat(labs).concat([[NONE, "(no prediction)"]]));
    fillSelect(controls.method, [["", "all methods"]].concat(r.methods.map(function (m) { return [m.name, m.display]; })));
    legend();
  }
  function syncControls() {
    for (var k in controls) { if (Object.prototype.hasOwnProperty.call(controls, k)) { controls[k].value = String(state[k]); } }
  }
  var legendBox = el("div", "legend");
  function legend() {
    var r = run(), L = r.legend || {};
    while (legendBox.firstChild) { legendBox.removeChild(legendBox.firstChild); }
    var bar = el("span", "bar");
    [-1, -0.5, 0, 0.5, 1].forEach(function (t) { var s = el("span", "sw", t > 0 ? "+" + t : String(t)); s.style.backgroundColor = colour(t); if (Math.abs(t) > 0.65) { s.classList.add("dark"); } bar.appendChild(s); });
    legendBox.appendChild(el("span", null, "Word scores: "));
    legendBox.appendChild(bar);
    legendBox.appendChild(el("span", null, " orange = positive, purple = negative, white = 0. Target: " + (L.target || "?") + "; reduction over the embedding: " + (L.reduction || "?") +
      "; attention: " + (L.attention || "?") + "; subwords \u2192 words: " + (L.aggregation || "?") + "; normalisation: " + (L.normalisation || "?") + ". "));
    var u = el("span", "w hu", "underlined"); legendBox.appendChild(u);
    legendBox.appendChild(el("span", null, " = human rationale; "));
    legendBox.appendChild(el("span", "w sel", "boxed"));
    legendBox.appendChild(el("span", null, " = the method's selected words (top-k or the prompting reply). Masking: strategy " + r.mask + ", \u0394p = masked \u2212 original probability of the originally predicted label."));
  }
  var countBox = el("div", "count"), list = el("div", "list"), more = el("button", "more", "show more");
  more.type = "button";
  more.addEventListener("click", function () { shown += PAGE; render(); });
  function build() {
    var bar = el("div", "controls");
    if (DATA.runs.length > 1) { bar.appendChild(select("run", "run", DATA.runs.map(function (r, i) { return [String(i), "[" + (i + 1) + "] " + r.label]; }))); }
    bar.appendChild(select("gold", "gold", []));
    bar.appendChild(select("pred", "predicted", []));
    bar.appendChild(select("correct", "correct", [["", "any"], ["yes", "correct"], ["no", "incorrect"]]));
    bar.appendChild(select("method", "method", []));
    bar.appendChild(select("purpose", "rationales for", [["a", "TRUE label (Table 2)"], ["f", "PREDICTED label (Table 4)"]]));
    bar.appendChild(select("flip", "masking", [["", "any"], ["yes", "flipped"], ["no", "not flipped"]]));
    bar.appendChild(select("parse", "parse", [["", "any"], ["fail", "parse failure"]]));
    bar.appendChild(select("trunc", "truncated", [["", "any"], ["yes", "truncated"]]));
    bar.appendChild(select("sort", "sort", [["index", "dataset order"], ["f1-asc", "per-example F1 \u2191"], ["f1-desc", "per-example F1 \u2193"], ["dp-asc", "probability change \u2191"], ["dp-desc", "probability change \u2193"]]));
    var sw = el("label", "ctl", "search "); var q = el("input"); q.type = "search"; q.setAttribute("data-ctl", "q");
    var timer = null;
    q.addEventListener("input", function () { clearTimeout(timer); timer = setTimeout(function () { state.q = q.value; shown = PAGE; render(); }, 120); });
    sw.appendChild(q); bar.appendChild(sw); controls.q = q;
    var reset = el("button", null, "reset"); reset.type = "button";
    reset.addEventListener("click", function () { applyFilter({}); });
    bar.appendChild(reset);
    root.appendChild(bar); root.appendChild(legendBox); root.appendChild(countBox); root.appendChild(list); root.appendChild(more);
    fillRunOptions();
  }
  function render() {
    var r = run(), items = selected(r);
    while (list.firstChild) { list.removeChild(list.firstChild); }
    var frag = document.createDocumentFragment();
    items.slice(0, shown).forEach(function (ex) { frag.appendChild(card(r, ex)); });
    list.appendChild(frag);
    countBox.textContent = items.length + " of " + r.examples.length + " examples match" + (items.length > shown ? " (showing the first " + shown + ")" : "");
    countBox.setAttribute("data-matches", String(items.length));
    more.hidden = items.length <= shown;
  }
  function applyFilter(f) {
    state = copy(DEFAULTS);
    for (var k in f) { if (Object.prototype.hasOwnProperty.call(f, k) && Object.prototype.hasOwnProperty.call(DEFAULTS, k)) { state[k] = f[k]; } }
    state.run = Number(state.run) || 0;
    if (state.run >= DATA.runs.length) { state.run = 0; }
    shown = PAGE;
    fillRunOptions(); syncControls(); render();
  }
  function wireLinks() {
    var links = document.querySelectorAll("[data-fs-filter]");
    Array.prototype.forEach.call(links, function (a) {
      var go = function (ev) {
        ev.preventDefault();
        var f = {};
        try { f = JSON.parse(a.getAttribute("data-fs-filter")); } catch (e) { f = {}; }
        applyFilter(f);
        root.scrollIntoView();
      };
      a.addEventListener("click", go);
      a.addEventListener("keydown", function (ev) { if (ev.key === "Enter" || ev.key === " ") { go(ev); } });
    });
  }
  build(); syncControls(); render(); wireLinks();
  window.faithscopeExplorer = {apply: applyFilter, state: function () { return copy(state); }};
  document.documentElement.setAttribute("data-explorer-ready", String(Math.round(performance.now())));
})();
