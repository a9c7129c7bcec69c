// The colour theme the user chose with the toggle (light or dark), applied before the first paint;
// without a choice the style sheet follows prefers-color-scheme.
(() => {
  try {
    const theme = localStorage.getItem('cv-theme');
    if (theme === 'light' || theme === 'dark') document.documentElement.dataset.theme = theme;
  } catch {
    // storage refused (private mode): the system's theme
  }
})();
