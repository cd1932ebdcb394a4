// Citation links: open the source card of marker [n] in the sources panel and highlight it;
// window.pqCopy copies the conversation as Markdown (clipboard API, or a textarea fallback off HTTPS).
(function () {
  function show(id) {
    var card = document.getElementById(id);
    if (!card) return false;
    var group = card.closest('details');
    if (group) group.open = true;
    document.querySelectorAll('.pq-src.pq-active').forEach(function (e) { e.classList.remove('pq-active'); });
    card.classList.add('pq-active');
    card.scrollIntoView({behavior: 'smooth', block: 'center'});
    return true;
  }
  document.addEventListener('click', function (ev) {
    var a = ev.target && ev.target.closest ? ev.target.closest('a[href*="#src-"]') : null;
    if (!a) return;
    ev.preventDefault();
    ev.stopPropagation();
    show(a.getAttribute('href').split('#').pop());
  }, true);
  window.pqCopy = function (text) {
    if (!text) return;
    if (navigator.clipboard && window.isSecureContext) { navigator.clipboard.writeText(text); return; }
    var area = document.createElement('textarea');
    area.value = text; document.body.appendChild(area); area.select();
    document.execCommand('copy'); document.body.removeChild(area);
  };
})();
