// Live updates: on each change to the user's calendars, and each job of theirs finished or
// applied by hand, the page fetches itself again and swaps in its #live region, unless the
// user is typing in it.
(function () {
  if (!window.EventSource) return;
  var status = document.getElementById('live-status');
  var source = new EventSource('/web/live');
  var busy = false;
  source.addEventListener('change', function () {
    var current = document.getElementById('live');
    if (!current || busy) return;
    if (current.contains(document.activeElement) && document.activeElement.tagName === 'INPUT') {
      status.textContent = 'There are changes: reload the page to see them.';
      return;
    }
    busy = true;
    fetch(location.href, { credentials: 'same-origin' })
      .then(function (r) { return r.ok ? r.text() : Promise.reject(r.status); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, 'text/html').getElementById('live');
        if (fresh) { current.replaceWith(fresh); status.textContent = 'Updated.'; }
      })
      .catch(function () { status.textContent = 'Could not update the page: reload it.'; })
      .then(function () { busy = false; });
  });
})();
