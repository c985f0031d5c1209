// Replacing the saved card: Stripe.js confirms a SetupIntent with the card field, then our server keeps
// the card for automatic renewal. Nothing is charged. (Same flow as the first half of pay.js.)
(function () {
  "use strict";
  const form = document.getElementById("card-form");
  if (!form) return;
  const message = document.getElementById("card-message");
  const button = document.getElementById("save-card-button");
  const stripe = Stripe(form.dataset.stripeKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  const label = button.textContent;

  function show(text) {
    message.innerHTML = "";
    const box = document.createElement("div");
    box.className = "alert alert-danger";
    box.textContent = text;
    message.appendChild(box);
  }

  form.addEventListener("submit", async function (event) {
    event.preventDefault();
    button.disabled = true;
    button.textContent = "Saving…";
    message.innerHTML = "";
    const setup = await stripe.confirmCardSetup(form.dataset.clientSecret, {payment_method: {card: card}});
    if (setup.error) {
      show(setup.error.message || "Your card could not be saved.");
      button.disabled = false;
      button.textContent = label;
      return;
    }
    let answer = {};
    try {
      const response = await fetch(form.dataset.saveUrl, {
        method: "POST",
        headers: {"Content-Type": "application/json", "X-CSRFToken": form.dataset.csrf},
        body: JSON.stringify({setup_intent_id: setup.setupIntent.id}),
        credentials: "same-origin",
      });
      answer = await response.json();
    } catch (e) {
      answer = {status: "failed", message: "Unexpected answer from the server."};
    }
    if (answer.status === "saved") {
      window.location.assign(answer.redirect);
      return;
    }
    show(answer.message || "Your card could not be saved.");
    button.disabled = false;
    button.textContent = label;
  });
})();
