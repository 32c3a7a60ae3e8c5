(function () {
  "use strict";
  // Intent status -> what the payer sees; the same table as services.http.pay_page.PAGE_STATE.
  var STATES = {pending: "pending", succeeded: "paid", partially_refunded: "paid",
                refunded: "paid", requires_review: "review", failed: "failed",
                expired: "expired", canceled: "canceled"};
  var main = document.getElementById("pay");
  var status = document.getElementById("status");
  var countdown = document.getElementById("countdown");
  var deadline = Date.now() + Number(main.dataset.expiresIn) * 1000;
  var source = null;
  var timer = null;

  function pad(n) { return (n < 10 ? "0" : "") + n; }

  function show(state) {
    // Past the deadline a "pending" (the expiry job has not run yet) is, for the payer, expired.
    if (state === "pending" && Date.now() >= deadline) { state = "expired"; }
    if (main.dataset.state === state) { return; }
    main.dataset.state = state;
    status.dataset.state = state;
    status.textContent = status.dataset["text" + state.charAt(0).toUpperCase() + state.slice(1)] || "";
    if (state !== "pending" && timer !== null) { clearInterval(timer); timer = null; }
    // An expired, failed or canceled payment may still be paid late: keep listening then.
    if ((state === "paid" || state === "review") && source !== null) { source.close(); source = null; }
  }

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    var h = Math.floor(left / 3600), m = Math.floor((left % 3600) / 60), s = left % 60;
    countdown.textContent = (h > 0 ? h + ":" + pad(m) : String(m)) + ":" + pad(s);
    if (left === 0) { show("expired"); }
  }

  if (main.dataset.state === "pending") { tick(); timer = setInterval(tick, 1000); }
  if (main.dataset.state !== "paid" && main.dataset.state !== "review" && window.EventSource) {
    source = new EventSource(main.dataset.events);
    source.addEventListener("status", function (event) {
      show(STATES[JSON.parse(event.data).status] || "pending");
    });
  }
})();
