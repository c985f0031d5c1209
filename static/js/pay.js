// The payment page: when the member presses Pay, the server makes a SetupIntent, Stripe.js saves the
// card with it, and our server charges it at the price shown (the page's quote). 3-D Secure is completed
// in the browser when the bank asks. Without an answer from Stripe the page asks again by itself and
// re-enables Pay once the attempt is settled. See README "Money".
(function () {
  "use strict";
  const form = document.getElementById("payment-form");
  if (!form) return;
  const message = document.getElementById("payment-message");
  const payButton = document.getElementById("pay-button");
  const savedButton = document.getElementById("pay-saved");
  const stripe = Stripe(form.dataset.stripeKey);
  const elements = stripe.elements();
  const card = elements.create("card");
  card.mount("#card-element");
  const POLL_MS = 3000;

  function show(text, kind) {
    message.innerHTML = "";
    const box = document.createElement("div");
    box.className = "alert alert-" + (kind || "danger");
    box.textContent = text;
    message.appendChild(box);
  }

  function busy(on) {
    payButton.disabled = on;
    if (savedButton) savedButton.disabled = on;
    payButton.textContent = on ? "Processing…" : payButton.dataset.label;
  }
  payButton.dataset.label = payButton.textContent;

  async function post(url, body) {
    let response;
    try {
      response = await fetch(url, {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf},
        body: JSON.stringify(body || {}),
        credentials: "same-origin",
      });
    } catch (e) {
      return {status: "unknown", message: "The connection was lost. Checking again…", refresh_url: body && body._refresh};
    }
    let data = {};
    try { data = await response.json(); } catch (e) { data = {status: "failed", message: "Unexpected answer from the server."}; }
    return data;
  }

  function later(url) {
    window.setTimeout(async function () { handle(await post(url, {})); }, POLL_MS);
  }

  async function handle(answer) {
    if (answer.status === "succeeded") {
      window.location.assign(answer.redirect);
      return;
    }
    if (answer.status === "requires_action") {
      const result = await stripe.confirmCardPayment(answer.client_secret);
      if (result.error) {
        show(result.error.message || "Your bank did not confirm the payment.");
      }
      // Whatever the browser says, the server re-reads the payment at Stripe and decides.
      return handle(await post(answer.refresh_url, {}));
    }
    if (answer.status === "processing" || answer.status === "unknown") {
      show(answer.message, "info");
      if (answer.refresh_url) later(answer.refresh_url);
      return;
    }
    show(answer.message || "The payment failed.");
    if (answer.reload) {
      window.setTimeout(function () { window.location.reload(); }, 1500);
      return;
    }
    busy(false);
  }

  const autoRenew = document.getElementById("auto-renew");

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    busy(true);
    message.innerHTML = "";
    const setupAnswer = await post(form.dataset.setupUrl, {});
    if (!setupAnswer.client_secret) {
      show(setupAnswer.message || "The card field could not be prepared. Nothing was charged.");
      busy(false);
      return;
    }
    const setup = await stripe.confirmCardSetup(setupAnswer.client_secret, {payment_method: {card: card}});
    if (setup.error) {
      show(setup.error.message || "Your card could not be used. Nothing was charged.");
      busy(false);
      return;
    }
    await handle(await post(form.dataset.chargeUrl, {
      setup_intent_id: setup.setupIntent.id,
      quote: form.dataset.quote,
      auto_renew: autoRenew ? autoRenew.checked : false,
    }));
  });

  if (savedButton) {
    savedButton.addEventListener("click", async function () {
      busy(true);
      message.innerHTML = "";
      await handle(await post(form.dataset.chargeUrl, {use_saved_card: true, quote: form.dataset.quote}));
    });
  }

  const complete = document.getElementById("complete-authentication");
  if (complete) {
    complete.addEventListener("click", async function () {
      complete.disabled = true;
      await handle(await post(complete.dataset.url, {}));
    });
  }
  const awaiting = document.getElementById("awaiting-answer");
  if (awaiting) {
    busy(true);
    later(awaiting.dataset.refreshUrl);
  }
})();
