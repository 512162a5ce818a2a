/** channel-email (IMAP in, SMTP out). */
package io.switchboard.channel.email;
