// The job editor's live schedule preview: as the schedule fields change, ask the server for
// the schedule in words and its next runs (one request once typing pauses) and show them in
// place. Without this script the "Show next runs" button does the same by submitting.
(() => {
  const editor = document.querySelector("form.job-editor");
  const preview = editor && editor.querySelector("[data-preview-url]");
  if (!preview) return;
  const fields = ["schedule_kind", "schedule_minute", "schedule_time", "schedule_weekdays",
    "schedule_day", "schedule_cron", "time_zone"];
  const pause = 300;
  let timer = null;
  let pending = null;

  const refresh = async () => {
    const data = new FormData(editor);
    const query = new URLSearchParams();
    fields.forEach((name) => data.getAll(name).forEach((value) => query.append(name, value)));
    if (pending) pending.abort(); // an older answer must not land after a newer one
    const request = new AbortController();
    pending = request;
    preview.setAttribute("aria-busy", "true");
    try {
      const response = await fetch(`${preview.dataset.previewUrl}?${query}`, {
        signal: request.signal, headers: { Accept: "text/html" },
      });
      // Logged out meanwhile (a redirect to the login page): keep what is shown.
      if (!response.ok || response.redirected) return;
      const html = await response.text();
      if (pending === request) preview.innerHTML = html;
    } catch (error) {
      // Aborted for a newer request, or the network is down: submitting still shows the runs.
      if (error.name !== "AbortError") console.warn("schedule preview:", error.message);
    } finally {
      if (pending === request) {
        pending = null;
        preview.removeAttribute("aria-busy");
      }
    }
  };

  const changed = (event) => {
    if (!fields.includes(event.target.name)) return;
    clearTimeout(timer);
    timer = setTimeout(refresh, pause);
  };
  editor.addEventListener("input", changed);
  editor.addEventListener("change", changed);
})();
