// Starts Swagger UI on the API docs page. A file, not an inline script, so the page keeps the
// Content-Security-Policy (script-src 'self'); no validator badge, which would load from elsewhere.
window.addEventListener("DOMContentLoaded", function () {
  var element = document.getElementById("swagger-ui");
  window.ui = SwaggerUIBundle({
    url: element.getAttribute("data-openapi-url"),
    dom_id: "#swagger-ui",
    validatorUrl: null,
    deepLinking: true,
  });
});
