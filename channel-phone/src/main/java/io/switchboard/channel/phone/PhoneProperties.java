package io.switchboard.channel.phone;

import jakarta.validation.Valid;
import org.springframework.boot.context.properties.ConfigurationProperties;
import org.springframework.validation.annotation.Validated;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * PBXes that report calls ({@code switchboard.phone.*}). The account {@code default} comes from the
 * PHONE_* environment variables; more PBXes are added as
 * {@code switchboard.phone.accounts.<name>.webhook-token=...} in an external configuration file.
 *
 * @param accounts     PBXes by account name; an account without a webhook token and without a vendor secret is off
 * @param maxBodyBytes the largest request accepted (a batch of CDR lines), in bytes
 */
@Validated
@ConfigurationProperties("switchboard.phone")
public record PhoneProperties(@Valid Map<String, Account> accounts, int maxBodyBytes) {

    public PhoneProperties {
        accounts = accounts == null ? Map.of() : new LinkedHashMap<>(accounts);
        maxBodyBytes = maxBodyBytes <= 0 ? 1 << 20 : maxBodyBytes;
    }

    /** The account if it is configured. */
    public Account account(String name) {
        Account a = accounts.get(name);
        return a != null && a.enabled() ? a : null;
    }

    /**
     * One PBX.
     *
     * @param webhookToken      the bearer token callers send in {@code Authorization: Bearer ...} (PHONE_WEBHOOK_TOKEN); never logged
     * @param defaultRegion     ISO 3166 region for numbers written without a country code (PHONE_DEFAULT_REGION, default RU)
     * @param timeZone          zone of the local times a PBX writes without an offset: Asterisk CDR, Zadarma
     *                          (PHONE_TIME_ZONE, default UTC)
     * @param zadarmaSecret     Zadarma API secret (PHONE_ZADARMA_SECRET): when set, format {@code zadarma} needs a valid
     *                          {@code Signature} header instead of the bearer token
     * @param mangoApiKey       Mango Office VPBX API key (PHONE_MANGO_API_KEY)
     * @param mangoApiSalt      Mango Office VPBX API salt (PHONE_MANGO_API_SALT): when key and salt are set, format
     *                          {@code mango} needs a valid {@code sign} instead of the bearer token
     * @param twilioAuthToken   Twilio auth token (PHONE_TWILIO_AUTH_TOKEN): when set, format {@code twilio} needs a valid
     *                          {@code X-Twilio-Signature} instead of the bearer token
     * @param twilioWebhookUrl  the exact public URL configured at Twilio as the status callback (PHONE_TWILIO_WEBHOOK_URL),
     *                          which the signature covers; when unset the URL of the request as received is used
     */
    public record Account(String webhookToken, String defaultRegion, String timeZone, String zadarmaSecret,
                          String mangoApiKey, String mangoApiSalt, String twilioAuthToken, String twilioWebhookUrl) {

        public boolean enabled() {
            return present(webhookToken) || present(zadarmaSecret) || (present(mangoApiKey) && present(mangoApiSalt))
                    || present(twilioAuthToken);
        }

        public String region() {
            return present(defaultRegion) ? defaultRegion.trim().toUpperCase(java.util.Locale.ROOT) : "RU";
        }

        public String zone() {
            return present(timeZone) ? timeZone.trim() : "UTC";
        }

        static boolean present(String s) {
            return s != null && !s.isBlank();
        }

        @Override
        public String toString() {
            return "Account[region=" + region() + ", timeZone=" + zone() + "]";
        }
    }
}
