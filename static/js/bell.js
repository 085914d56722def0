// Keeps the bell's unread count fresh while a page stays open (the CSP allows no inline script).
(() => {
  const bell = document.getElementById("bell");
  if (!bell) return;
  const badge = bell.querySelector(".bell-count");
  const icon = bell.querySelector(".bi");
  const refresh = () => {
    if (document.hidden) return;
    fetch(bell.dataset.unreadUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then((response) => (response.ok ? response.json() : null))
      .then((data) => {
        if (!data) return;
        badge.textContent = data.unread > 99 ? "99+" : String(data.unread);
        badge.classList.toggle("d-none", data.unread === 0);
        icon.classList.toggle("bi-bell-fill", data.unread > 0);
        icon.classList.toggle("bi-bell", data.unread === 0);
        bell.setAttribute("aria-label", (bell.dataset.label || "Notifications: {count} unread")
          .replace("{count}", String(data.unread)));
      })
      .catch(() => {});
  };
  setInterval(refresh, 60000);
  document.addEventListener("visibilitychange", refresh);
})();
