// Polls a running run's status and reloads the page when it has finished.
(() => {
  const badge = document.getElementById("run-status");
  if (!badge || badge.dataset.finished === "yes") return;
  const bar = document.getElementById("run-progress");
  const poll = async () => {
    const response = await fetch(badge.dataset.url, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    const state = await response.json();
    if (state.finished) {
      window.location.reload();
      return;
    }
    if (bar && state.total) {
      bar.style.width = `${Math.round((100 * state.done) / state.total)}%`;
      bar.textContent = (bar.dataset.text || "{done} of {total} accounts")
        .replace("{done}", state.done).replace("{total}", state.total);
    }
    setTimeout(poll, 1500);
  };
  setTimeout(poll, 1000);
})();
