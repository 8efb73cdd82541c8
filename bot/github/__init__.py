"""GitHub's side of the board: its REST API (`rest.GitHubClient`), issues and the
references pull requests make (`issues`), names typed for it (`repos`), and webhook
signatures (`signature`). It imports only the standard library, aiohttp and the domain
(pyproject's import-linter contracts); the services and adapters call it."""
