// Sitedesk's GraphiQL page: GraphiQL with the explorer plugin and the headers tab,
// talking to the /graphql endpoint of the origin that served it. No asset leaves this origin.
(function () {
  "use strict";
  const parameters = new URLSearchParams(window.location.search);
  const url = window.location.origin + window.location.pathname;
  const fetcher = GraphiQL.createFetcher({ url: url });
  const explorer = GraphiQLPluginExplorer.explorerPlugin();

  function remember(name, value) {
    const next = new URLSearchParams(window.location.search);
    if (value) {
      next.set(name, value);
    } else {
      next.delete(name);
    }
    window.history.replaceState(null, "", "?" + next.toString());
  }

  const root = ReactDOM.createRoot(document.getElementById("graphiql"));
  root.render(
    React.createElement(GraphiQL, {
      fetcher: fetcher,
      plugins: [explorer],
      defaultQuery: "# Sign in with the `login` mutation, then put\n# {\"Authorization\": \"Bearer <accessToken>\"}\n# into the Headers tab below.\n\nquery Me {\n  me {\n    name\n    email\n  }\n}\n",
      query: parameters.get("q") || undefined,
      variables: parameters.get("variables") || undefined,
      onEditQuery: function (query) { remember("q", query); },
      onEditVariables: function (variables) { remember("variables", variables); },
      defaultEditorToolsVisibility: true,
      isHeadersEditorEnabled: true,
      shouldPersistHeaders: true,
      inputValueDeprecation: true,
    }),
  );
})();
