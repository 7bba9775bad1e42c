// The vessel page's identity timeline (names, IMOs, call signs, flag, other MMSIs,
// owners and managers over time) with vis-timeline from /static/vendor.
// Labels go in as text (vis-timeline's `content` is HTML, so each is a text node).
(function () {
  "use strict";
  const data = JSON.parse(document.getElementById("page-data").textContent);
  const box = document.getElementById("identity-timeline");
  if (!box || !window.vis || !data.periods) return;
  const order = ["name", "IMO", "call sign", "flag", "MMSI", "owner", "manager"];
  const groups = order.filter((g) => data.periods.some((p) => p.group === g))
    .map((g, i) => ({ id: g, content: g, order: i }));
  const items = [];
  data.periods.forEach((p, i) => {
    if (!p.start && !p.end) return;
    const label = document.createElement("span");
    label.textContent = p.label;
    label.title = p.evidence ? `${p.label} (${p.evidence})` : p.label;
    const start = p.start || p.end;
    const end = p.end && p.end !== start ? p.end : null;
    items.push(Object.assign({ id: i, group: p.group, content: label, start, title: label.title },
      end ? { end, type: "range" } : { type: "point" }));
  });
  if (!items.length) {
    box.textContent = "No dated identity statements.";
    return;
  }
  const timeline = new window.vis.Timeline(box, items, groups, {
    stack: true, zoomable: true, horizontalScroll: false, margin: { item: 4 },
    tooltip: { followMouse: true },
    xss: { disabled: false },
  });
  window.wk = Object.assign(window.wk || {}, { timeline, timelineItems: items.length });
})();
