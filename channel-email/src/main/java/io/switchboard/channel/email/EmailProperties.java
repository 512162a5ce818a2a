package io.switchboard.channel.email;

import jakarta.validation.Valid;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;

/**
 * Mailboxes ({@code switchboard.email.*}). The account {@code default} comes from EMAIL_IMAP_URL,
 * EMAIL_SMTP_URL and EMAIL_FROM; more mailboxes are added as
 * {@code switchboard.email.accounts.<name>.imap-url=...} in an external configuration file.
 *
 * @param accounts         mailboxes by account name; an account without IMAP and SMTP URLs is off
 * @param sendAttempts     how many times a reply is tried on transient SMTP errors (4xx, connection) before it fails
 * @param maxMessageBytes  raw messages larger than this are stored in the document store and published as a reference
 *                         (ADR 0102; {@link EmailPayloadStoreProperties}); without a store, in a reduced form (headers,
 *                         text, the list of attachments with sizes) while the original stays in the mailbox. Default 10 MB
 * @param pollInterval     how often the mailbox is checked when the server has no IDLE (and the IDLE renewal period)
 * @param reconnectMaxDelay the longest wait between reconnection attempts (exponential backoff from 1 s)
 * @param unhealthyAfter   how long a mailbox may go without a completed sync, while it cannot connect or sync, before
 *                         the health component {@code emailAdapter} reports OUT_OF_SERVICE (default PT5M; shorter
 *                         outages are retried quietly and only shown in the details)
 */
@Validated
@ConfigurationProperties("switchboard.email")
public record EmailProperties(@Valid Map<String, Account> accounts, int sendAttempts, long maxMessageBytes,
                              Duration pollInterval, Duration reconnectMaxDelay, Duration unhealthyAfter) {

    @org.springframework.boot.context.properties.bind.ConstructorBinding
    public EmailProperties {
        accounts = accounts == null ? Map.of() : new LinkedHashMap<>(accounts);
        sendAttempts = sendAttempts <= 0 ? 5 : sendAttempts;
        maxMessageBytes = maxMessageBytes <= 0 ? 10L * 1024 * 1024 : maxMessageBytes;
        pollInterval = pollInterval == null || pollInterval.isZero() || pollInterval.isNegative() ? Duration.ofMinutes(1) : pollInterval;
        reconnectMaxDelay = reconnectMaxDelay == null || reconnectMaxDelay.isNegative() || reconnectMaxDelay.isZero()
                ? Duration.ofMinutes(1) : reconnectMaxDelay;
        unhealthyAfter = unhealthyAfter == null || unhealthyAfter.isNegative() || unhealthyAfter.isZero()
                ? Duration.ofMinutes(5) : unhealthyAfter;
    }

    public EmailProperties(Map<String, Account> accounts, int sendAttempts, long maxMessageBytes, Duration pollInterval,
                           Duration reconnectMaxDelay) {
        this(accounts, sendAttempts, maxMessageBytes, pollInterval, reconnectMaxDelay, null);
    }

    /** The account if it is configured for sending or receiving. */
    public Account account(String name) {
        Account a = accounts.get(name);
        return a != null && (a.receives() || a.sends()) ? a : null;
    }

    /**
     * One mailbox.
     *
     * @param imapUrl  where mail is fetched: {@code imap://user:pass@host:143/INBOX} or {@code imaps://...:993/INBOX}
     *                 (EMAIL_IMAP_URL); user and password URL-encoded; the path is the folder (default INBOX)
     * @param smtpUrl  where replies are sent: {@code smtp://user:pass@host:25} or {@code smtps://...:465} (EMAIL_SMTP_URL)
     * @param from     the support address replies come from, optionally with a name: {@code Support <help@example.com>}
     *                 (EMAIL_FROM); its domain names our Message-IDs
     * @param moveTo   optional folder an ingested message is moved to (instead of only being flagged \Seen)
     * @param idle     use IMAP IDLE when the server offers it (default true); otherwise poll every poll-interval
     * @param initialSync what the first sync of a mailbox takes: {@code unseen} (default: unread messages, then
     *                 everything newer) or {@code all} (every message in the folder)
     */
    public record Account(URI imapUrl, URI smtpUrl, String from, String moveTo, Boolean idle, String initialSync) {

        /** True when the first sync takes every message, not only the unread ones. */
        public boolean initialSyncAll() {
            return initialSync != null && initialSync.strip().equalsIgnoreCase("all");
        }

        public boolean receives() {
            return imapUrl != null && imapUrl.getHost() != null;
        }

        public boolean sends() {
            return smtpUrl != null && smtpUrl.getHost() != null;
        }

        public boolean useIdle() {
            return idle == null || idle;
        }

        /** The folder named by the IMAP URL's path. */
        public String folder() {
            String path = imapUrl.getPath();
            return path == null || path.isBlank() || path.equals("/") ? "INBOX" : path.substring(1);
        }

        public String imapProtocol() {
            return imapUrl.getScheme().toLowerCase(Locale.ROOT).equals("imaps") ? "imaps" : "imap";
        }

        public String smtpProtocol() {
            return smtpUrl.getScheme().toLowerCase(Locale.ROOT).equals("smtps") ? "smtps" : "smtp";
        }

        static String user(URI url) {
            String info = url.getRawUserInfo();
            if (info == null) {
                return null;
            }
            int colon = info.indexOf(':');
            return URLDecoder.decode(colon < 0 ? info : info.substring(0, colon), StandardCharsets.UTF_8);
        }

        static String password(URI url) {
            String info = url.getRawUserInfo();
            if (info == null || info.indexOf(':') < 0) {
                return null;
            }
            return URLDecoder.decode(info.substring(info.indexOf(':') + 1), StandardCharsets.UTF_8);
        }

        /** Jakarta Mail session properties for this mailbox's IMAP side. */
        Properties imapSession(Duration readTimeout) {
            String p = imapProtocol();
            Properties props = new Properties();
            props.setProperty("mail.store.protocol", p);
            props.setProperty("mail." + p + ".host", imapUrl.getHost());
            if (imapUrl.getPort() > 0) {
                props.setProperty("mail." + p + ".port", String.valueOf(imapUrl.getPort()));
            }
            props.setProperty("mail." + p + ".connectiontimeout", "15000");
            props.setProperty("mail." + p + ".timeout", String.valueOf(readTimeout.toMillis()));
            props.setProperty("mail." + p + ".writetimeout", "30000");
            // fetching the raw bytes must not mark a message \Seen: that happens only once it is in Kafka
            props.setProperty("mail." + p + ".peek", "true");
            props.setProperty("mail." + p + ".fetchsize", String.valueOf(1024 * 1024));
            return props;
        }

        /** Jakarta Mail session properties for this mailbox's SMTP side. */
        Properties smtpSession() {
            String p = smtpProtocol();
            Properties props = new Properties();
            props.setProperty("mail.transport.protocol", p);
            props.setProperty("mail." + p + ".host", smtpUrl.getHost());
            if (smtpUrl.getPort() > 0) {
                props.setProperty("mail." + p + ".port", String.valueOf(smtpUrl.getPort()));
            }
            props.setProperty("mail." + p + ".auth", String.valueOf(user(smtpUrl) != null));
            props.setProperty("mail." + p + ".connectiontimeout", "15000");
            props.setProperty("mail." + p + ".timeout", "60000");
            props.setProperty("mail." + p + ".writetimeout", "60000");
            if (p.equals("smtp")) {
                props.setProperty("mail.smtp.starttls.enable", "true"); // upgrade when the server offers it
            }
            return props;
        }

        @Override
        public String toString() {
            // never the URLs themselves: they carry passwords
            return "Account[imap=" + (receives() ? imapProtocol() + "://" + imapUrl.getHost() : "off")
                    + ", smtp=" + (sends() ? smtpProtocol() + "://" + smtpUrl.getHost() : "off") + "]";
        }
    }
}
