// Colours tag badges from their data attribute (the CSP allows no inline styles).
document.querySelectorAll("[data-colour]").forEach((element) => {
  element.style.backgroundColor = element.dataset.colour;
});
