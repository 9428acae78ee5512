"use strict";
// Counts the admin's own scripts write (actions.js: "2 of 5 selected") in the reader's digits: on a Persian page
// each such element's digits become ۰-۹ whenever its text changes. The server writes its counts so already
// (core.templatetags.localized); this only mends what the browser writes after it.
(function () {
    const DIGITS = {fa: "۰۱۲۳۴۵۶۷۸۹"}[document.documentElement.lang.split("-")[0]];
    if (!DIGITS) return;
    const local = (text) => text.replace(/[0-9]/g, (digit) => DIGITS[digit]);

    function keepLocal(element) {
        const mend = () => {
            const text = local(element.textContent);
            if (text !== element.textContent) element.textContent = text;  // the observer sees it once more, equal
        };
        new MutationObserver(mend).observe(element, {childList: true, characterData: true, subtree: true});
        mend();
    }

    document.addEventListener("DOMContentLoaded", () => {
        document.querySelectorAll(".action-counter, .actions .all").forEach(keepLocal);
    });
})();
