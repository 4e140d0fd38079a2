// Story editor: pair the clip player with the transcript segment forms.
// Each segment form gets a "Play" button that seeks the clip to its start; while the clip plays,
// the segment being spoken is highlighted and announced.
(function () {
  "use strict";

  function segmentForms() {
    return Array.from(document.querySelectorAll('input[name^="transcript_segments-"][name$="-start"]'))
      .filter(function (input) { return !/__prefix__/.test(input.name); })
      .map(function (startInput) {
        var prefix = startInput.name.replace(/-start$/, "");
        var deleted = document.querySelector('input[name="' + prefix + '-DELETE"]');
        return {
          prefix: prefix,
          start: startInput,
          end: document.querySelector('input[name="' + prefix + '-end"]'),
          text: document.querySelector('[name="' + prefix + '-text"]'),
          container: startInput.closest("[data-inline-panel-child]") || startInput.closest("li") || startInput.parentElement,
          deleted: deleted,
        };
      });
  }

  function seconds(input) {
    var value = parseFloat(input && input.value);
    return isNaN(value) ? null : value;
  }

  function addPlayButtons(media) {
    segmentForms().forEach(function (segment) {
      if (segment.start.dataset.clipButton) return;
      segment.start.dataset.clipButton = "1";
      var button = document.createElement("button");
      button.type = "button";
      button.className = "button button-small button-secondary";
      button.textContent = "Play from here";
      button.setAttribute("aria-label", "Play the clip from this segment's start");
      button.addEventListener("click", function () {
        var start = seconds(segment.start);
        if (start === null) return;
        media.currentTime = start;
        media.play();
        if (segment.text) segment.text.focus();
      });
      segment.start.insertAdjacentElement("afterend", button);
    });
  }

  function highlight(media, announcer) {
    var now = media.currentTime;
    var current = null;
    segmentForms().forEach(function (segment) {
      var start = seconds(segment.start);
      var end = seconds(segment.end);
      var speaking = start !== null && end !== null && now >= start && now < end;
      if (segment.text) segment.text.style.outline = speaking ? "3px solid #2e7d5b" : "";
      if (speaking) current = segment;
    });
    if (announcer) {
      announcer.textContent = current && current.text ? "Now: " + current.text.value.slice(0, 120) : "";
    }
  }

  function init() {
    var panel = document.querySelector("[data-clip-player]");
    var media = panel && panel.querySelector("[data-clip-media]");
    if (!media) return;
    var announcer = panel.querySelector("[data-clip-now-playing]");
    addPlayButtons(media);
    media.addEventListener("timeupdate", function () { highlight(media, announcer); });
    // Segments added with "Add segment" get their button too.
    new MutationObserver(function () { addPlayButtons(media); }).observe(document.body, {
      childList: true,
      subtree: true,
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
