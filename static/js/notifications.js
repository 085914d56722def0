// The notification list's filters apply as soon as one is changed.
document.querySelectorAll("form.notification-filters select").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});
