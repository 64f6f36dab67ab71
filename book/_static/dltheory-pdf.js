// The download button of every page offers the PDF of the whole book (made by `make pdf`, tools/book_pdf.py,
// next to the HTML at the site's root), above the theme's "print this page".
document.addEventListener("DOMContentLoaded", () => {
  const root = document.documentElement.dataset.content_root || "";
  document.querySelectorAll(".dropdown-download-buttons .dropdown-menu").forEach((menu) => {
    const item = document.createElement("li");
    const link = document.createElement("a");
    link.href = root + "theory-you-can-run.pdf";
    link.className = "btn btn-sm dropdown-item dltheory-book-pdf";
    link.title = "The whole book as one PDF";
    link.innerHTML = '<span class="btn__icon-container"><i class="fas fa-book"></i></span>' +
                     '<span class="btn__text-container">book .pdf</span>';
    item.appendChild(link);
    menu.prepend(item);
  });
});
