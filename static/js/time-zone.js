// Preselects the browser's time zone in a form the user has not sent yet (the sign-up form marks
// its select with data-browser-time-zone); the server checks the value against zoneinfo.
(() => {
  let zone = "";
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || "";
  } catch (error) {
    return;
  }
  document.querySelectorAll("select[data-browser-time-zone]").forEach((select) => {
    if (Array.from(select.options).some((option) => option.value === zone)) {
      select.value = zone;
    }
  });
})();
