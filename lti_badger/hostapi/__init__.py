"""The 1EdTech Open Badges 3.0 API as a host: a learner's wallet or backpack, with the learner's
consent (OAuth 2.0 authorization code + PKCE, clients registered dynamically), reads the
learner's credentials and profile and may store credentials and a profile on the tool."""
