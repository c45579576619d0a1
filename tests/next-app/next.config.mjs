// Nothing for hail-sdk: no serverExternalPackages, no webpack or Turbopack settings.
export default {};
