// The job editor: show the schedule parts of the chosen kind and the picker of the chosen
// level, filter the account list, reload for another report type, and note when an existing
// definition is attached.
(() => {
  const editor = document.querySelector("form.job-editor");
  if (!editor) return;

  const kind = editor.querySelector("#schedule_kind");
  const showParts = () => {
    editor.querySelectorAll(".schedule-part").forEach((part) => {
      part.classList.toggle("d-none", !part.dataset.kinds.split(" ").includes(kind.value));
    });
  };
  kind.addEventListener("change", showParts);
  showParts();

  const levels = editor.querySelectorAll("input[name=level]");
  const showLevel = () => {
    const chosen = editor.querySelector("input[name=level]:checked");
    editor.querySelectorAll(".level-part").forEach((part) => {
      part.classList.toggle("d-none", chosen !== null && part.dataset.level !== chosen.value);
    });
  };
  levels.forEach((level) => level.addEventListener("change", showLevel));
  showLevel();

  const filters = editor.querySelectorAll("[data-account-filter]");
  const filterAccounts = () => {
    const platform = editor.querySelector("[data-account-filter=platform]").value;
    const tag = editor.querySelector("[data-account-filter=tag]").value;
    editor.querySelectorAll(".account-choice").forEach((choice) => {
      const tags = choice.dataset.tags.trim().split(" ");
      const visible = (!platform || choice.dataset.platform === platform) && (!tag || tags.includes(tag));
      choice.classList.toggle("d-none", !visible);
    });
  };
  filters.forEach((filter) => filter.addEventListener("change", filterAccounts));

  const typeSelect = editor.querySelector("[data-type-switch]");
  if (typeSelect) {
    typeSelect.addEventListener("change", () => {
      const url = new URL(window.location.href);
      url.searchParams.set("type", typeSelect.value);
      window.location.assign(url.toString());
    });
  }

  const definition = editor.querySelector("#definition_id");
  const note = editor.querySelector(".attach-note");
  const parameters = document.querySelector(".parameters");
  const showAttach = () => {
    const attaching = definition.value !== "0" && definition.value !== definition.dataset.current;
    note.classList.toggle("d-none", !attaching);
    note.querySelectorAll(".definition-users").forEach((users) => {
      users.classList.toggle("d-none", users.dataset.definition !== definition.value);
    });
    parameters.classList.toggle("opacity-50", attaching);
  };
  definition.addEventListener("change", showAttach);
  showAttach();
})();

// Lists with a bulk bar: the header box ticks every row box of that bar's form.
document.querySelectorAll("[data-select-all]").forEach((box) => {
  box.addEventListener("change", () => {
    document.querySelectorAll(`input[name=job_ids][form="${box.dataset.selectAll}"]`)
      .forEach((row) => { row.checked = box.checked; });
  });
});

// Filters that apply as soon as a choice is made.
document.querySelectorAll("select[data-auto-submit]").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
});

// The recipients of the output's e-mail show while the e-mail is ticked.
(() => {
  const box = document.querySelector("form.job-editor #email_output");
  const recipients = document.querySelector("form.job-editor #email_recipients");
  if (!box || !recipients) return;
  const wrapper = recipients.closest(".mb-3") || recipients.parentElement;
  const show = () => wrapper.classList.toggle("d-none", !box.checked);
  box.addEventListener("change", show);
  show();
})();
