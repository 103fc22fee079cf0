// The wall-screen dashboard: reads /dashboard/data with a manager token, and re-reads it whenever the
// /stream of Server-Sent Events says a view changed (and every 30 s, since targets and ages move with time).
"use strict";

(() => {
  const TOKEN_KEY = "mes.reporting.token";
  const LINE_KEY = "mes.reporting.line";
  const REFRESH_MS = 30000;
  const SHOWN_VIEWS = new Set(["output", "wip", "andons", "quality", "kits", "staffing", "targets", "flow", "lines"]);

  const $ = (id) => document.getElementById(id);
  const state = {
    token: null,
    line: null,
    zone: "UTC",
    source: null,
    inFlight: false,
    pending: false,
    timer: null,
    loadId: Math.random().toString(36).slice(2),
    renders: 0,
    changes: 0,
  };
  // For tests and curious operators: proves the page updates in place, without a reload.
  window.__dashboard = state;
  document.body.dataset.loadId = state.loadId;

  const num = (value, digits = 0) =>
    value === null || value === undefined
      ? "–"
      : Number(value).toLocaleString("en-GB", { minimumFractionDigits: digits, maximumFractionDigits: digits });
  const pct = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)} %`);
  const signed = (value, digits = 1) =>
    value === null || value === undefined ? "" : `${value >= 0 ? "+" : "−"}${num(Math.abs(value), digits)}`;
  const text = (id, value) => {
    const el = $(id);
    if (el && el.textContent !== String(value)) el.textContent = value;
  };
  const gap = (id, value, digits = 1) => {
    const el = $(id);
    el.textContent = signed(value, digits);
    el.classList.toggle("good", value !== null && value >= 0);
    el.classList.toggle("bad", value !== null && value < 0);
  };

  // ---- token and line ---------------------------------------------------------------------------

  function readToken() {
    const params = new URLSearchParams(location.search);
    const fromUrl = params.get("token");
    if (fromUrl) {
      localStorage.setItem(TOKEN_KEY, fromUrl);
      params.delete("token"); // keep the token out of the address bar and of screenshots
      const rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? `?${rest}` : ""));
    }
    state.token = localStorage.getItem(TOKEN_KEY);
    state.line = params.get("line") || localStorage.getItem(LINE_KEY);
  }

  function askForToken(message) {
    text("login-error", message || "");
    const dialog = $("login");
    if (!dialog.open) dialog.showModal();
  }

  $("login-form").addEventListener("submit", () => {
    const value = $("login-token").value.trim();
    if (!value) return;
    localStorage.setItem(TOKEN_KEY, value);
    state.token = value;
    start();
  });

  $("line-select").addEventListener("change", (event) => {
    state.line = event.target.value;
    localStorage.setItem(LINE_KEY, state.line);
    const params = new URLSearchParams(location.search);
    params.set("line", state.line);
    history.replaceState(null, "", `${location.pathname}?${params}`);
    refresh();
  });

  async function api(path) {
    const response = await fetch(path, { headers: { Authorization: `Bearer ${state.token}`, Accept: "application/json" } });
    if (response.status === 401 || response.status === 403) {
      const problem = await response.json().catch(() => ({}));
      const error = new Error(problem.detail || "the token was refused");
      error.auth = true;
      throw error;
    }
    if (!response.ok) {
      const problem = await response.json().catch(() => ({}));
      throw new Error(problem.detail || `${response.status} ${response.statusText}`);
    }
    return response.json();
  }

  async function loadLines() {
    const { lines } = await api("/lines");
    const select = $("line-select");
    select.replaceChildren(
      ...lines.map((line) => {
        const option = document.createElement("option");
        option.value = line.line_id;
        option.textContent = line.name ? `${line.line_id} · ${line.name}` : line.line_id;
        return option;
      }),
    );
    if (!state.line || !lines.some((l) => l.line_id === state.line)) {
      state.line = lines.length ? lines[0].line_id : null;
    }
    if (state.line) select.value = state.line;
    select.hidden = lines.length < 2;
  }

  // ---- refresh ----------------------------------------------------------------------------------

  async function refresh() {
    if (!state.token || !state.line) return;
    if (state.inFlight) {
      state.pending = true; // one more read after this one, so the last change is never missed
      return;
    }
    state.inFlight = true;
    try {
      const data = await api(`/dashboard/data?line=${encodeURIComponent(state.line)}`);
      render(data);
      text("updated", new Date().toLocaleTimeString("en-GB", { timeZone: state.zone }));
    } catch (error) {
      if (error.auth) {
        stopStream();
        askForToken(error.message);
      } else {
        setStatus("error", error.message);
      }
    } finally {
      state.inFlight = false;
      if (state.pending) {
        state.pending = false;
        refresh();
      }
    }
  }

  function render(data) {
    state.zone = data.time_zone || "UTC";
    tickClock();
    state.renders += 1;
    const periods = Object.fromEntries(data.output.periods.map((p) => [p.period, p]));
    const year = data.output.year;
    text("line-name", data.line_id);
    document.title = `${data.line_id} · plant dashboard`;

    const day = periods.day;
    if (day) {
      text("today-label", day.label);
      text("today-actual", num(day.actual));
      text("today-target", num(day.target_to_now, 1));
      text("today-full", num(day.target, 1));
      gap("today-gap", day.gap);
    }
    const shift = periods.shift;
    if (shift) {
      text("shift-label", shift.label);
      text("shift-actual", num(shift.actual));
      text("shift-target", num(shift.target_to_now, 1));
      gap("shift-gap", shift.gap);
      text("shift-state", shift.running ? "running" : "ended");
    } else {
      text("shift-label", "no shift in the calendar");
    }
    text("year-label", year.year);
    text("ytd-actual", num(year.actual));
    text("ytd-plan", num(year.plan_to_date, 0));
    gap("ytd-gap", year.gap, 0);
    text("annual-target", num(year.annual_target));
    const f = year.forecast;
    text("forecast", num(f.year_end, 0));
    text("forecast-band", f.low !== null ? `95 %: ${num(f.low, 0)} – ${num(f.high, 0)}` : "band needs two working days of history");
    text("required-rate", num(year.required_daily_rate, 1));
    text("run-rate", num(f.run_rate, 1));

    renderCurve(data.curve);
    renderWip(data.wip);

    const andons = data.open_andons;
    text("andon-count", andons.length);
    document.querySelector(".tile.andons").classList.toggle("alert", andons.length > 0);
    $("andon-list").replaceChildren(
      ...andons.slice(0, 4).map((a) => {
        const li = document.createElement("li");
        const where = document.createElement("span");
        where.textContent = `${a.station} · ${a.reason || ""}`;
        if (a.stops_line) where.classList.add("stop");
        const age = document.createElement("span");
        age.textContent = `${num(a.open_minutes)} min`;
        li.append(where, age);
        return li;
      }),
    );

    text("fpy", pct(data.quality.fpy));
    text("dpu", data.quality.dpu === null ? "–" : num(data.quality.dpu, 2));
    text("open-defects", num(data.quality.open_defects));
    const b = data.bottleneck;
    text("bottleneck", b ? `bottleneck today: ${b.station} (${num(b.mean_cycle_seconds / 60, 1)} min mean cycle)` : "");

    const k = data.kits;
    text("kits-usable", num(k.usable));
    text("days-of-supply", k.days_of_supply === null ? "–" : num(k.days_of_supply, 1));
    text("kits-quarantined", num(k.quarantined));
    text("open-discrepancies", num(Object.values(k.open_discrepancies_by_claim_code).reduce((a, n) => a + n, 0)));
    text("held-trucks", num(k.trucks_held_by_shortage));

    const s = data.staffing;
    text("staffing-shift", s.shift || "");
    text("staffing-coverage", pct(s.coverage));
    text("staffing-present", num(s.present));
    text("staffing-clocked", num(s.clocked_in));
    text("staffing-required", num(s.required));

    text("generation", data.generation);
    text("warnings", [...data.output.warnings].join(" · "));
  }

  // ---- the cumulative curve (inline SVG) --------------------------------------------------------

  const SVG = "http://www.w3.org/2000/svg";
  const W = 1000;
  const H = 380;
  const PAD = { left: 64, right: 16, top: 16, bottom: 30 };

  function svg(name, attrs, parent) {
    const el = document.createElementNS(SVG, name);
    for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, value);
    parent.appendChild(el);
    return el;
  }

  function renderCurve(curve) {
    const root = $("curve");
    const points = curve.points;
    const top = Math.max(
      1,
      curve.annual_target || 0,
      ...points.map((p) => Math.max(p.plan_cumulative || 0, p.actual_cumulative || 0, p.forecast_high || 0)),
    );
    const niceTop = niceCeil(top * 1.05);
    const x = (i) => PAD.left + (i / Math.max(1, points.length - 1)) * (W - PAD.left - PAD.right);
    const y = (v) => H - PAD.bottom - (v / niceTop) * (H - PAD.top - PAD.bottom);
    const frag = document.createDocumentFragment();
    const g = svg("g", {}, frag);
    const step = niceTop / 4;
    for (let v = 0; v <= niceTop + 1e-9; v += step) {
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(v), y2: y(v), class: "grid" }, g);
      svg("text", { x: PAD.left - 8, y: y(v) + 5, "text-anchor": "end", class: "axis" }, g).textContent = num(v);
    }
    points.forEach((p, i) => {
      if (p.date.endsWith("-01")) {
        const month = new Date(`${p.date}T12:00:00Z`).toLocaleString("en-GB", { month: "short", timeZone: "UTC" });
        svg("text", { x: x(i) + 4, y: H - 8, class: "axis" }, g).textContent = month;
      }
    });
    if (curve.annual_target) {
      svg("line", { x1: PAD.left, x2: W - PAD.right, y1: y(curve.annual_target), y2: y(curve.annual_target), class: "target" }, g);
    }
    const path = (selector) => {
      const pts = [];
      points.forEach((p, i) => {
        const v = selector(p);
        if (v !== null && v !== undefined) pts.push(`${x(i).toFixed(1)},${y(v).toFixed(1)}`);
      });
      return pts.length ? `M${pts.join("L")}` : "";
    };
    const band = [];
    const lower = [];
    points.forEach((p, i) => {
      if (p.forecast_high !== null && p.forecast_low !== null) {
        band.push(`${x(i).toFixed(1)},${y(p.forecast_high).toFixed(1)}`);
        lower.unshift(`${x(i).toFixed(1)},${y(p.forecast_low).toFixed(1)}`);
      }
    });
    if (band.length) svg("polygon", { points: [...band, ...lower].join(" "), class: "band" }, g);
    svg("path", { d: path((p) => p.plan_cumulative), class: "plan" }, g);
    svg("path", { d: path((p) => p.forecast_cumulative), class: "forecast" }, g);
    svg("path", { d: path((p) => p.actual_cumulative), class: "actual" }, g);
    const today = points.findIndex((p) => p.forecast_cumulative !== null);
    if (today >= 0) svg("line", { x1: x(today), x2: x(today), y1: PAD.top, y2: H - PAD.bottom, class: "today" }, g);
    root.replaceChildren(frag);
  }

  function niceCeil(value) {
    const magnitude = 10 ** Math.floor(Math.log10(value));
    for (const m of [1, 2, 2.5, 4, 5, 8, 10]) if (m * magnitude >= value) return m * magnitude;
    return 10 * magnitude;
  }

  // ---- WIP per station --------------------------------------------------------------------------

  function renderWip(wip) {
    text("wip-total", num(wip.total));
    const ramp = wip.ramp;
    let summary = wip.takt_seconds ? `takt ${num(wip.takt_seconds / 60, 1)} min` : "";
    if (ramp && ramp.goal_today !== null) summary += ` · ramp goal ${num(ramp.goal_today, 0)}`;
    if (ramp && ramp.next_goal !== null) summary += ` · ${num(ramp.next_goal)} by ${ramp.next_date}`;
    text("wip-summary", summary);
    const most = Math.max(1, ...wip.stations.map((s) => s.trucks));
    $("wip-stations").replaceChildren(
      ...wip.stations.map((s) => {
        const li = document.createElement("li");
        li.dataset.station = s.station;
        if (s.over_standard > 0) li.classList.add("over");
        else if (s.held > 0) li.classList.add("held");
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = s.name || s.station;
        name.title = s.oldest_age_seconds ? `oldest ${num(s.oldest_age_seconds / 60)} min` : "";
        const track = document.createElement("span");
        track.className = "track";
        const fill = document.createElement("span");
        fill.className = "fill";
        fill.style.display = "block";
        fill.style.width = `${(100 * s.trucks) / most}%`;
        track.append(fill);
        const count = document.createElement("span");
        count.className = "count";
        count.textContent = s.trucks;
        const oldest = document.createElement("span");
        oldest.className = "oldest";
        oldest.textContent = s.oldest_age_seconds ? `${num(s.oldest_age_seconds / 60)} min` : "";
        oldest.title = "the longest a truck has been at this station";
        li.append(name, track, count, oldest);
        return li;
      }),
    );
  }

  // ---- live stream ------------------------------------------------------------------------------

  function setStatus(kind, detail) {
    const el = $("status");
    el.dataset.state = kind;
    el.textContent = kind === "live" ? "live" : kind;
    el.title = detail || "";
  }

  function stopStream() {
    if (state.source) state.source.close();
    state.source = null;
  }

  function startStream() {
    stopStream();
    const source = new EventSource(`/stream?token=${encodeURIComponent(state.token)}`);
    state.source = source;
    source.addEventListener("hello", () => {
      setStatus("live");
      refresh(); // after a reconnect, changes may have been missed
    });
    source.addEventListener("change", (event) => {
      const change = JSON.parse(event.data);
      state.changes += 1;
      if (!state.line) {
        loadLines().then(refresh, () => {}); // the first events named a line
      } else if (change.views.some((v) => SHOWN_VIEWS.has(v))) {
        refresh();
      }
    });
    source.addEventListener("heartbeat", () => setStatus("live"));
    source.onerror = () => setStatus("reconnecting", "the live stream dropped; the browser reconnects");
  }

  function tickClock() {
    text("clock", new Date().toLocaleTimeString("en-GB", { timeZone: state.zone, hour: "2-digit", minute: "2-digit" }));
  }

  async function start() {
    if (!state.token) {
      askForToken();
      return;
    }
    try {
      await loadLines();
    } catch (error) {
      if (error.auth) {
        askForToken(error.message);
        return;
      }
      setStatus("error", error.message);
      setTimeout(start, 5000);
      return;
    }
    const dialog = $("login");
    if (dialog.open) dialog.close();
    if (!state.line) {
      text("warnings", "no line is known yet: waiting for the first events");
    }
    await refresh();
    startStream();
    clearInterval(state.timer);
    state.timer = setInterval(refresh, REFRESH_MS);
  }

  readToken();
  tickClock();
  setInterval(tickClock, 1000);
  start();
})();
