package pprocd

// Version is the version of this client, the same as the server's and every
// other client's (the VERSION file at the top of the repository; a test
// checks that they agree).
const Version = "0.1.0"
