package io.switchboard.api.workspace;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CannedSuggesterTest {

    final List<CannedSuggester.Candidate> seed = CannedSeed.ANSWERS.stream()
            .map(c -> new CannedSuggester.Candidate(c.id(), c.lang(), c.title(), c.text(), c.keywords())).toList();

    String suggest(String message) {
        return CannedSuggester.suggest(message, seed).map(s -> s.response().id()).orElse(null);
    }

    @Test
    void eachFaqTopicIsRecognisedInRussianAndEnglish() {
        assertThat(suggest("Здравствуйте, хочу сменить номер телефона в аккаунте")).isEqualTo("seed:phone-change:ru");
        assertThat(suggest("How do I change the phone number on my account?")).isEqualTo("seed:phone-change:en");
        assertThat(suggest("Потерял телефон с аутентификатором, не могу войти, 2FA")).isEqualTo("seed:lost-2fa:ru");
        assertThat(suggest("I lost my authenticator app, two-factor code is gone")).isEqualTo("seed:lost-2fa:en");
        assertThat(suggest("Прошу увеличить квоту на vCPU в проекте")).isEqualTo("seed:quota:ru");
        assertThat(suggest("Please increase the quota for RAM")).isEqualTo("seed:quota:en");
        assertThat(suggest("Как удалить аккаунт?")).isEqualTo("seed:account-deletion:ru");
        assertThat(suggest("Please delete my account")).isEqualTo("seed:account-deletion:en");
        assertThat(suggest("Не начислили приветственный бонус")).isEqualTo("seed:bonus:ru");
        assertThat(suggest("I did not get my bonus points")).isEqualTo("seed:bonus:en");
        assertThat(suggest("Не приходят письма от поддержки")).isEqualTo("seed:missing-emails:ru");
        assertThat(suggest("I don't receive any email from you")).isEqualTo("seed:missing-emails:en");
    }

    @Test
    void nothingIsSuggestedForAnUnrelatedOrEmptyMessage() {
        assertThat(suggest("Привет!")).isNull();
        assertThat(suggest("")).isNull();
        assertThat(suggest(null)).isNull();
    }

    @Test
    void theLanguageFollowsTheScript() {
        assertThat(CannedSuggester.languageOf("Здравствуйте, у меня вопрос про VPS")).isEqualTo("ru");
        assertThat(CannedSuggester.languageOf("Hello there")).isEqualTo("en");
    }
}
