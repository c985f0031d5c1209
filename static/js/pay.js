// The payment page: Stripe.js saves the card (SetupIntent), our server charges it, and
// 3-D Secure is completed in the browser when the bank asks for it. See DESIGN.md.
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
    const response = await fetch(url, {
      method: "POST",
      headers: {"Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf},
      body: JSON.stringify(body),
      credentials: "same-origin",
    });
    let data = {};
    try { data = await response.json(); } catch (e) { data = {status: "failed", message: "Unexpected answer from the server."}; }
    return data;
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
    if (answer.status === "processing") {
      show(answer.message, "info");
      return;
    }
    if (answer.client_secret) form.dataset.clientSecret = answer.client_secret;
    show(answer.message || "The payment failed.");
    busy(false);
  }

  const autoRenew = document.getElementById("auto-renew");

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    busy(true);
    message.innerHTML = "";
    const setup = await stripe.confirmCardSetup(form.dataset.clientSecret, {payment_method: {card: card}});
    if (setup.error) {
      show(setup.error.message || "Your card could not be used. Nothing was charged.");
      busy(false);
      return;
    }
    await handle(await post(form.dataset.chargeUrl, {
      setup_intent_id: setup.setupIntent.id,
      auto_renew: autoRenew ? autoRenew.checked : false,
    }));
  });

  if (savedButton) {
    savedButton.addEventListener("click", async function () {
      busy(true);
      message.innerHTML = "";
      await handle(await post(form.dataset.chargeUrl, {use_saved_card: true}));
    });
  }
})();
