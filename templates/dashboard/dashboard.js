/* The dashboard's only script: plain JavaScript, no framework, no build step. Every page
   works without it; it adds in-page Validate and Submit, the JSON syntax locator and the
   live status refresh. (Included into a Django template: keep template tags out of it.) */
(function () {
  "use strict";
  var FINISHED = ["COMPLETE", "FAILED", "CANCELLED"];
  var POLL_MS = 1000;
  var NIL_UUID = "00000000-0000-0000-0000-000000000000";

  function field(root, name) { return root.querySelector('[data-field="' + name + '"]'); }
  function formatInt(n) { return Number(n).toLocaleString("en-US"); }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* The same wording as present.format_duration on the server. */
  function formatDuration(seconds) {
    seconds = Math.max(seconds, 0);
    if (seconds < 60) return seconds.toFixed(1) + " s";
    var whole = Math.round(seconds), minutes = Math.floor(whole / 60), hours = Math.floor(minutes / 60);
    return hours ? hours + " h " + pad(minutes % 60) + " min" : minutes + " min " + pad(whole % 60) + " s";
  }
  function csrfToken() {
    var input = document.querySelector('input[name="csrfmiddlewaretoken"]');
    return input ? input.value : "";
  }
  function element(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  }

  /* ---- Live status ------------------------------------------------------------------ */
  function showStatus(panel, body) {
    var progress = body.progress || {};
    var unit = panel.getAttribute("data-unit") || "rounds";  // an index job deals shoes
    var status = field(panel, "status");
    status.textContent = body.status;
    status.setAttribute("data-value", body.status);
    var bar = field(panel, "bar");
    bar.max = Math.max(progress.rounds_total || 0, 1);
    bar.value = body.status === "COMPLETE" ? bar.max : progress.rounds_done || 0;
    bar.textContent = Math.round((progress.fraction || 0) * 100) + "%";
    field(panel, "rounds").textContent =
      formatInt(progress.rounds_done || 0) + " of " + formatInt(progress.rounds_total || 0) + " " + unit;
    field(panel, "rate").textContent = progress.rate ? formatInt(Math.round(progress.rate)) + " " + unit + "/s" : "";
    field(panel, "eta").textContent =
      progress.eta_seconds === null || progress.eta_seconds === undefined ? "" : formatDuration(progress.eta_seconds) + " left";
    var error = field(panel, "error");
    error.textContent = body.error || "";
    error.hidden = !body.error;
    var finished = FINISHED.indexOf(body.status) >= 0;
    field(panel, "cancel").hidden = finished;
    field(panel, "done").hidden = !finished;
    return finished;
  }

  function watch(panel) {
    var url = panel.getAttribute("data-status-url");
    var failures = 0;
    var hint = field(panel, "no-script");
    if (hint) hint.hidden = true;  // this script refreshes the status itself
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (body) {
          failures = 0;
          var finished = showStatus(panel, body);
          if (!finished) { setTimeout(tick, POLL_MS); return; }
          if (panel.hasAttribute("data-reload-when-finished")) window.location.reload();
        })
        .catch(function () {
          // A restart of the web process or a dropped connection: keep trying, slower.
          failures += 1;
          setTimeout(tick, Math.min(POLL_MS * (1 + failures), 10000));
        });
    }
    tick();
  }

  function follow(panel, jobId) {
    function url(name) { return panel.getAttribute("data-" + name + "-url-pattern").replace(NIL_UUID, jobId); }
    panel.setAttribute("data-status-url", url("status"));
    field(panel, "job-link").href = url("job");
    field(panel, "cancel").action = url("cancel");
    panel.hidden = false;
    showStatus(panel, { status: "PENDING", progress: {}, error: null });
    watch(panel);
  }

  /* ---- JSON syntax errors: where, as line and column ---------------------------------- */
  /* Browsers word JSON.parse's errors differently and some give no position, so the text
     is walked here by the JSON grammar to find the offset of the first character that
     cannot be right. Returns null if the text is valid. */
  function syntaxErrorOffset(text) {
    var i = 0, n = text.length;
    var NUMBER = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
    function fail() { throw { offset: i }; }
    function space() { while (i < n && " \t\n\r".indexOf(text[i]) >= 0) i++; }
    function string() {
      i++;
      while (i < n) {
        var c = text[i];
        if (c === '"') { i++; return; }
        if (c === "\\") {
          i++;
          if (i < n && '"\\/bfnrt'.indexOf(text[i]) >= 0) { i++; continue; }
          if (text[i] === "u" && /^[0-9a-fA-F]{4}$/.test(text.substr(i + 1, 4))) { i += 5; continue; }
          fail();
        }
        if (c < " ") fail();
        i++;
      }
      fail();
    }
    function value() {
      space();
      if (i >= n) fail();
      var c = text[i];
      if (c === "{") {
        i++; space();
        if (text[i] === "}") { i++; return; }
        for (;;) {
          space();
          if (text[i] !== '"') fail();
          string(); space();
          if (text[i] !== ":") fail();
          i++; value(); space();
          if (text[i] === ",") { i++; continue; }
          if (text[i] === "}") { i++; return; }
          fail();
        }
      }
      if (c === "[") {
        i++; space();
        if (text[i] === "]") { i++; return; }
        for (;;) {
          value(); space();
          if (text[i] === ",") { i++; continue; }
          if (text[i] === "]") { i++; return; }
          fail();
        }
      }
      if (c === '"') { string(); return; }
      NUMBER.lastIndex = i;
      if (NUMBER.exec(text)) { i = NUMBER.lastIndex; return; }
      var words = ["true", "false", "null"];
      for (var w = 0; w < words.length; w++) {
        if (text.substr(i, words[w].length) === words[w]) { i += words[w].length; return; }
      }
      fail();
    }
    try {
      value(); space();
      if (i < n) fail();
      return null;
    } catch (error) {
      if (error && typeof error.offset === "number") return error.offset;
      throw error;
    }
  }

  function lineAndColumn(text, offset) {
    var before = text.slice(0, offset).split("\n");
    return { line: before.length, column: before[before.length - 1].length + 1 };
  }

  /* ---- Raw JSON Runner ---------------------------------------------------------------- */
  function setUpRunner(form) {
    var textarea = form.querySelector("#config");
    var output = document.getElementById("runner-output");
    var panel = document.getElementById("live-status");
    var master = JSON.parse(document.getElementById("master-config").textContent);

    function show(nodes) {
      output.replaceChildren(element("h2", "", "Check"));
      nodes.forEach(function (node) { output.appendChild(node); });
    }
    function showProblems(body) {
      var list = element("ul", "problems");
      (body.errors || []).forEach(function (error) {
        var item = element("li");
        item.appendChild(element("code", "", error.path || "(config)"));
        item.appendChild(document.createTextNode(" " + error.reason));
        list.appendChild(item);
      });
      show([element("p", "problem", "The engine cannot run this config:"), list]);
    }
    function showAnswer(response, body) {
      var detail = body && (body.detail || JSON.stringify(body));
      show([element("p", "problem", "The server answered " + response.status + ": " + detail)]);
    }
    /* The config as an object, or null after showing where its syntax is wrong. */
    function parsed() {
      var text = textarea.value;
      try {
        return JSON.parse(text);
      } catch (error) {
        var offset = syntaxErrorOffset(text);
        var where = lineAndColumn(text, offset === null ? text.length : offset);
        var message = element("p", "problem",
          "JSON syntax error at line " + where.line + ", column " + where.column + ": " + error.message);
        message.setAttribute("data-kind", "syntax");
        show([message]);
        if (offset !== null) { textarea.focus(); textarea.setSelectionRange(offset, offset + 1); }
        return null;
      }
    }
    function post(url, config) {
      return fetch(url, {
        method: "POST",
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrfToken() },
        body: JSON.stringify(config),
      }).then(function (response) {
        return response.json().catch(function () { return null; }).then(function (body) {
          return { response: response, body: body };
        });
      });
    }

    function validate() {
      var config = parsed();
      if (config === null) return;
      show([element("p", "hint", "Validating…")]);
      post(form.getAttribute("data-validate-url"), config).then(function (answer) {
        if (answer.response.status === 200) {
          show([element("p", "ok", "Valid. The engine will run this (normalised):"),
                element("pre", "json", JSON.stringify(answer.body, null, 2))]);
        } else if (answer.response.status === 400 && answer.body && answer.body.errors) {
          showProblems(answer.body);
        } else {
          showAnswer(answer.response, answer.body);
        }
      }).catch(function (error) { show([element("p", "problem", "Could not reach the server: " + error)]); });
    }

    function submit() {
      var config = parsed();
      if (config === null) return;
      show([element("p", "hint", "Submitting…")]);
      post(form.getAttribute("data-submit-url"), config).then(function (answer) {
        if (answer.response.status === 202 && answer.body && answer.body.job_id) {
          var line = element("p", "ok", "Submitted job ");
          line.appendChild(element("code", "", answer.body.job_id));
          show([line]);
          follow(panel, answer.body.job_id);
        } else if (answer.response.status === 400 && answer.body && answer.body.errors) {
          showProblems(answer.body);
        } else {
          showAnswer(answer.response, answer.body);
        }
      }).catch(function (error) { show([element("p", "problem", "Could not reach the server: " + error)]); });
    }

    form.addEventListener("submit", function (event) {
      var action = event.submitter ? event.submitter.value : "";
      // Insert goes to the server as a plain form post (it rewrites the text there).
      if (action === "validate") { event.preventDefault(); validate(); }
      if (action === "submit") { event.preventDefault(); submit(); }
    });
    document.getElementById("load-master-form").addEventListener("submit", function (event) {
      event.preventDefault();
      textarea.value = JSON.stringify(master, null, 2);
      show([element("p", "hint", "Loaded the master simulation.")]);
    });
  }

  /* ---- A split job's shards ------------------------------------------------------------ */
  /* The server renders the shard list (templates/dashboard/_shards.html); while the job
     runs, a fresh copy replaces it every SHARDS_POLL_MS, until one comes without
     data-live (the job has finished). */
  var SHARDS_POLL_MS = 2000;
  function watchShards(section) {
    var url = section.getAttribute("data-shards-url");
    var failures = 0;
    function tick() {
      fetch(url, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.text();
        })
        .then(function (html) {
          failures = 0;
          var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("shards");
          if (!fresh) return;
          section.replaceWith(fresh);
          section = fresh;
          if (fresh.hasAttribute("data-live")) setTimeout(tick, SHARDS_POLL_MS);
        })
        .catch(function () {
          failures += 1;
          setTimeout(tick, Math.min(SHARDS_POLL_MS * (1 + failures), 10000));
        });
    }
    setTimeout(tick, SHARDS_POLL_MS);
  }

  var runnerForm = document.getElementById("runner-form");
  if (runnerForm) setUpRunner(runnerForm);
  var livePanel = document.getElementById("live-status");
  if (livePanel && !livePanel.hidden && FINISHED.indexOf(livePanel.getAttribute("data-status")) < 0) {
    watch(livePanel);
  }
  var shardList = document.getElementById("shards");
  if (shardList && shardList.hasAttribute("data-live")) watchShards(shardList);
})();
