/* Segment rule builder: an ALL/ANY form with nested groups over the rules textarea,
   with the live count and a sample from the preview endpoint. No framework, no CDN. */
(function () {
  "use strict";
  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      if (key === "text") { node.textContent = attrs[key]; } else { node.setAttribute(key, attrs[key]); }
    });
    (children || []).forEach(function (child) { if (child) { node.appendChild(child); } });
    return node;
  }
  function csrf() {
    var match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/);
    var input = document.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : (match ? decodeURIComponent(match[1]) : "");
  }

  function Builder(root) {
    this.root = root;
    this.textarea = document.getElementById(root.dataset.target);
    this.fields = JSON.parse(document.getElementById("rule-builder-catalogue").textContent);
    this.operators = JSON.parse(document.getElementById("rule-builder-operators").textContent);
    this.byName = {};
    var self = this;
    this.fields.forEach(function (field) { self.byName[field.name] = field; });
    this.strings = {};
    root.querySelectorAll("#rule-builder-strings")[0].content.querySelectorAll("span").forEach(function (span) {
      self.strings[span.dataset.key] = span.textContent;
    });
    var rules;
    try { rules = JSON.parse(this.textarea.value || "{}"); } catch (e) { rules = {}; }
    if (!rules || (!rules.all && !rules.any)) { rules = {all: []}; }
    this.rules = rules;
    this.textarea.addEventListener("change", function () {
      try { self.rules = JSON.parse(self.textarea.value); self.render(); } catch (e) { /* keep the form */ }
    });
    this.render();
  }

  Builder.prototype.sync = function () {
    this.textarea.value = JSON.stringify(this.rules, null, 2);
    var self = this;
    clearTimeout(this.timer);
    this.timer = setTimeout(function () { self.preview(); }, 400);
  };

  Builder.prototype.preview = function () {
    var result = this.root.querySelector(".rule-builder-result");
    var table = this.root.querySelector(".rule-builder-sample");
    var body = table.querySelector("tbody");
    result.className = "rule-builder-result";
    result.textContent = this.strings.counting;
    var self = this;
    // Only the answer to the latest rules is shown: on a slow server an earlier request (the empty
    // rules of a fresh page, say) can answer last and would show everyone.
    var ask = this.asked = (this.asked || 0) + 1;
    fetch(this.root.dataset.previewUrl, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRFToken": csrf()},
      body: JSON.stringify({rules: this.rules})
    }).then(function (response) { return response.json(); }).then(function (data) {
      if (ask !== self.asked) { return; }
      body.textContent = "";
      table.hidden = true;
      if (data.error) { result.className = "rule-builder-result error"; result.textContent = data.error; return; }
      result.textContent = data.count ? data.count.toLocaleString(document.documentElement.lang === "fa" ? "fa" : "en") + " " + self.strings.customers
        : self.strings.none;
      table.hidden = !data.sample.length;
      data.sample.forEach(function (row) {
        body.appendChild(el("tr", {}, [el("td", {}, [el("a", {href: row.url, text: row.name})]),
          el("td", {text: row.email}), el("td", {text: row.city})]));
      });
    }).catch(function () { if (ask === self.asked) { result.textContent = ""; } });
  };

  Builder.prototype.render = function () {
    var tree = this.root.querySelector(".rule-builder-tree");
    tree.textContent = "";
    tree.appendChild(this.group(this.rules, null));
    this.sync();
  };

  Builder.prototype.group = function (node, parent) {
    var self = this;
    var join = node.any ? "any" : "all";
    var items = node[join];
    var box = el("fieldset", {"class": "group"});
    var select = el("select", {"aria-label": this.strings.join}, [
      el("option", {value: "all", text: this.strings.all}), el("option", {value: "any", text: this.strings.any})]);
    select.value = join;
    select.addEventListener("change", function () {
      node[select.value] = node[join]; delete node[join]; self.render();
    });
    var head = el("div", {"class": "group-head"}, [select]);
    var add = el("button", {type: "button", "class": "button", text: this.strings.add});
    add.addEventListener("click", function () { items.push({field: self.fields[0].name, op: self.fields[0].operators[0], value: ""}); self.render(); });
    var addGroup = el("button", {type: "button", "class": "button", text: this.strings.group});
    addGroup.addEventListener("click", function () { items.push({any: []}); self.render(); });
    head.appendChild(add); head.appendChild(addGroup);
    if (parent) {
      var remove = el("button", {type: "button", "class": "button", text: this.strings.remove});
      remove.addEventListener("click", function () { parent.splice(parent.indexOf(node), 1); self.render(); });
      head.appendChild(remove);
    }
    box.appendChild(head);
    items.forEach(function (item) {
      box.appendChild(item.all || item.any ? self.group(item, items) : self.condition(item, items));
    });
    return box;
  };

  Builder.prototype.valueInput = function (item, field) {
    var self = this;
    var op = item.op;
    if (op === "is_set" || op === "is_not_set") { delete item.value; return null; }
    if (field.kind === "category_window") {
      var value = (item.value && typeof item.value === "object") ? item.value : {category: "", days: 90};
      item.value = value;
      var category = el("input", {type: "text", value: value.category, "aria-label": this.strings.category, placeholder: this.strings.category});
      var days = el("input", {type: "number", min: "1", value: value.days, "aria-label": this.strings.days});
      category.addEventListener("input", function () { value.category = category.value; self.sync(); });
      days.addEventListener("input", function () { value.days = parseInt(days.value, 10) || 0; self.sync(); });
      return el("span", {}, [category, el("span", {text: " " + this.strings.days + " "}), days]);
    }
    if (field.kind === "bool") {
      var select = el("select", {"aria-label": field.label}, [el("option", {value: "true", text: "✓"}), el("option", {value: "false", text: "✗"})]);
      if (typeof item.value !== "boolean") { item.value = true; }
      select.value = String(item.value);
      select.addEventListener("change", function () { item.value = select.value === "true"; self.sync(); });
      return select;
    }
    var multiple = op === "in" || op === "not_in", between = op === "between";
    var text = Array.isArray(item.value) ? item.value.join(", ") : (item.value === undefined ? "" : String(item.value));
    var input = el("input", {type: "text", value: text, "aria-label": field.label,
      placeholder: between ? "low, high" : (multiple ? "a, b, c" : (field.kind === "date" ? "YYYY-MM-DD" : ""))});
    if (field.choices && field.choices.length) {
      var listId = "choices-" + field.name;
      if (!document.getElementById(listId)) {
        var list = el("datalist", {id: listId});
        field.choices.forEach(function (choice) { list.appendChild(el("option", {value: choice})); });
        this.root.appendChild(list);
      }
      input.setAttribute("list", listId);
    }
    function parse(raw) {
      raw = raw.trim();
      if (field.kind === "number" && raw !== "" && !isNaN(Number(raw))) { return Number(raw); }
      return raw;
    }
    input.addEventListener("input", function () {
      item.value = (multiple || between) ? input.value.split(",").map(parse).filter(function (v) { return v !== ""; }) : parse(input.value);
      self.sync();
    });
    return input;
  };

  Builder.prototype.condition = function (item, parent) {
    var self = this;
    var field = this.byName[item.field] || this.fields[0];
    var fieldSelect = el("select", {"aria-label": this.strings.field});
    this.fields.forEach(function (f) { fieldSelect.appendChild(el("option", {value: f.name, text: f.label})); });
    fieldSelect.value = field.name;
    fieldSelect.addEventListener("change", function () {
      item.field = fieldSelect.value; item.op = self.byName[item.field].operators[0]; delete item.value; self.render();
    });
    var opSelect = el("select", {"aria-label": this.strings.operator});
    field.operators.forEach(function (op) { opSelect.appendChild(el("option", {value: op, text: self.operators[op] || op.replace(/_/g, " ")})); });
    if (field.operators.indexOf(item.op) < 0) { item.op = field.operators[0]; }
    opSelect.value = item.op;
    opSelect.addEventListener("change", function () { item.op = opSelect.value; self.render(); });
    var remove = el("button", {type: "button", "class": "button", text: this.strings.remove});
    remove.addEventListener("click", function () { parent.splice(parent.indexOf(item), 1); self.render(); });
    return el("div", {"class": "condition"}, [fieldSelect, opSelect, this.valueInput(item, field), remove]);
  };

  document.addEventListener("DOMContentLoaded", function () {
    document.querySelectorAll(".rule-builder").forEach(function (root) { new Builder(root); });
  });
})();
