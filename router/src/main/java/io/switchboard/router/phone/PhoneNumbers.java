package io.switchboard.router.phone;

import com.google.i18n.phonenumbers.NumberParseException;
import com.google.i18n.phonenumbers.PhoneNumberUtil;
import com.google.i18n.phonenumbers.Phonenumber;

import java.util.Locale;
import java.util.Optional;

/**
 * Phone numbers to E.164 with libphonenumber: "+7 (499) 350-97-03", "84993509703" and
 * "74993509703" with region RU are all "+74993509703", so they are one identity.
 */
public final class PhoneNumbers {

    private static final PhoneNumberUtil UTIL = PhoneNumberUtil.getInstance();

    /**
     * @param raw    the number as a PBX wrote it (may carry a display name, "sip:" or spaces)
     * @param region ISO 3166 region for numbers without a country code
     * @return the E.164 form, or empty when it is not a possible phone number (an extension, "anonymous")
     */
    public static Optional<String> e164(String raw, String region) {
        if (raw == null) {
            return Optional.empty();
        }
        String s = raw.trim();
        if (s.toLowerCase(Locale.ROOT).startsWith("sip:") || s.toLowerCase(Locale.ROOT).startsWith("tel:")) {
            s = s.substring(4);
            int at = s.indexOf('@');
            s = at >= 0 ? s.substring(0, at) : s;
        }
        if (s.startsWith("00")) {
            s = "+" + s.substring(2);
        }
        if (s.replaceAll("[^0-9]", "").length() < 7) {
            return Optional.empty();
        }
        try {
            Phonenumber.PhoneNumber number = UTIL.parse(s, region == null || region.isBlank() ? "RU" : region.toUpperCase(Locale.ROOT));
            if (!UTIL.isPossibleNumber(number)) {
                return Optional.empty();
            }
            return Optional.of(UTIL.format(number, PhoneNumberUtil.PhoneNumberFormat.E164));
        } catch (NumberParseException e) {
            return Optional.empty();
        }
    }

    private PhoneNumbers() {
    }
}
