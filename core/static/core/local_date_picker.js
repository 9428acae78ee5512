"use strict";
// A month of the Jalali calendar to click a day in, beside each date box core.date_inputs writes in Persian
// (typing stays the main way in: the box reads ۱۴۰۵/۰۹/۱۴ or 1405/09/14). The calendar arithmetic is the
// browser's own (Intl with the "persian" calendar); the labels come from the box's data-calendar-* attributes,
// translated on the server.
(function () {
    const DAY = 86400000;
    const PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹";
    const numbers = new Intl.DateTimeFormat("en-u-ca-persian-nu-latn",
        {year: "numeric", month: "numeric", day: "numeric", timeZone: "UTC"});
    const monthName = new Intl.DateTimeFormat("fa-IR-u-ca-persian", {month: "long", timeZone: "UTC"});
    const weekday = new Intl.DateTimeFormat("fa-IR", {weekday: "narrow", timeZone: "UTC"});

    function jalali(time) {  // {y, m, d} of the day that starts at `time` (UTC midnight)
        const out = {};
        for (const part of numbers.formatToParts(new Date(time))) {
            if (["year", "month", "day"].includes(part.type)) out[part.type] = parseInt(part.value, 10);
        }
        return {y: out.year, m: out.month, d: out.day};
    }

    function fromJalali(y, m, d) {  // UTC midnight of that Jalali day, or null when there is no such day
        const wanted = y * 10000 + m * 100 + d;
        let time = Date.UTC(y + 621, 2, 21) + Math.round((m - 1) * 30.5 + d - 1) * DAY;  // a few days off at most
        for (let step = 0; step < 40; step++) {
            const j = jalali(time);
            const found = j.y * 10000 + j.m * 100 + j.d;
            if (found === wanted) return time;
            time += found < wanted ? DAY : -DAY;
        }
        return null;
    }

    function typed(text) {  // the day a box holds (Persian, Arabic-Indic or ASCII digits; an ISO date too), or null
        const ascii = text.trim().replace(/[۰-۹]/g, (c) => "0123456789"[c.charCodeAt(0) - 0x6F0])
            .replace(/[٠-٩]/g, (c) => "0123456789"[c.charCodeAt(0) - 0x660]);
        const match = /^(\d{4})[/.\u066b-](\d{1,2})[/.\u066b-](\d{1,2})$/.exec(ascii);
        if (!match) return null;
        const [y, m, d] = match.slice(1).map(Number);
        return y >= 1700 ? Date.UTC(y, m - 1, d) : fromJalali(y, m, d);
    }

    function persian(text) {
        return String(text).replace(/\d/g, (c) => PERSIAN_DIGITS[c]);
    }

    function written(time) {  // ۱۴۰۵/۰۹/۱۴
        const j = jalali(time);
        return persian(`${j.y}/${String(j.m).padStart(2, "0")}/${String(j.d).padStart(2, "0")}`);
    }

    function today() {
        const now = new Date();
        return Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
    }

    function button(text, label) {
        const element = document.createElement("button");
        element.type = "button";
        element.textContent = text;
        if (label) element.setAttribute("aria-label", label);
        return element;
    }

    function attach(input) {
        const labels = input.dataset;
        const opener = button("", labels.calendarChoose);
        opener.className = "local-date-picker-open";
        opener.title = labels.calendarChoose;
        const panel = document.createElement("div");
        panel.className = "local-date-picker";
        panel.setAttribute("role", "group");
        panel.setAttribute("aria-label", labels.calendarChoose);
        panel.hidden = true;
        const anchor = input.closest("label") || input;
        anchor.after(opener, panel);
        let shown = null;  // UTC midnight of the first day of the month shown

        function pick(time) {
            input.value = written(time);
            input.dispatchEvent(new Event("change", {bubbles: true}));
            panel.hidden = true;
            input.focus();
        }

        function show(time) {
            shown = time - (jalali(time).d - 1) * DAY;
            const month = jalali(shown).m;
            const chosen = typed(input.value);
            panel.replaceChildren();
            const head = document.createElement("div");
            head.className = "local-date-picker-head";
            const previous = button("‹", labels.calendarPrevious);
            previous.addEventListener("click", () => show(shown - DAY));
            const next = button("›", labels.calendarNext);
            next.addEventListener("click", () => show(shown + 32 * DAY));
            const title = document.createElement("strong");
            title.textContent = `${monthName.format(new Date(shown))} ${persian(jalali(shown).y)}`;  // as the server writes it: تیر ۱۴۰۵
            head.append(previous, title, next);
            const grid = document.createElement("table");
            const names = grid.createTHead().insertRow();
            for (let index = 0; index < 7; index++) {  // Saturday first, as the Iranian week starts
                const th = document.createElement("th");
                th.scope = "col";
                th.textContent = weekday.format(new Date(Date.UTC(2026, 0, 3) + index * DAY));  // 3 Jan 2026: a Saturday
                names.append(th);
            }
            const body = grid.createTBody();
            let row = body.insertRow();
            const blanks = (new Date(shown).getUTCDay() + 1) % 7;
            for (let index = 0; index < blanks; index++) row.insertCell();
            for (let time = shown; jalali(time).m === month; time += DAY) {
                if (row.cells.length === 7) row = body.insertRow();
                const day = button(persian(jalali(time).d), written(time));
                if (time === chosen) day.setAttribute("aria-pressed", "true");
                if (time === today()) day.className = "local-date-picker-today";
                day.addEventListener("click", () => pick(time));
                row.insertCell().append(day);
            }
            const foot = button(labels.calendarToday);
            foot.className = "local-date-picker-today-button";
            foot.addEventListener("click", () => pick(today()));
            panel.append(head, grid, foot);
            panel.hidden = false;
        }

        opener.addEventListener("click", () => (panel.hidden ? show(typed(input.value) ?? today()) : (panel.hidden = true)));
        panel.addEventListener("keydown", (event) => {
            if (event.key === "Escape") {
                panel.hidden = true;
                opener.focus();
            }
        });
    }

    function start(root) {
        // Not in an inline's hidden template row ("__prefix__"): a row added from it is set up when it comes.
        root.querySelectorAll("input[data-calendar-choose]:not([data-calendar-ready])").forEach((input) => {
            if (input.name.includes("__prefix__")) return;
            input.dataset.calendarReady = "true";
            attach(input);
        });
    }

    document.addEventListener("formset:added", (event) => start(event.target));  // Django's inlines.js

    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", () => start(document));
    else start(document);
})();
