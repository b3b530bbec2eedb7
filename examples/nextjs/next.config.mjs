/** @type {import('next').NextConfig} */
export default {
  // The example runs from the repository's clients/typescript through a `file:` link.
  poweredByHeader: false,
};
