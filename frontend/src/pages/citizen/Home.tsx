import { useState, type FormEvent } from "react";
import { useTranslation } from "react-i18next";
import { Link, useNavigate } from "react-router";

import { PageTitle } from "../../components/Status";

export function Home() {
  const { t } = useTranslation("citizen");
  const navigate = useNavigate();
  const [query, setQuery] = useState("");

  function search(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const q = query.trim();
    navigate(q ? `/thu-tuc?q=${encodeURIComponent(q)}` : "/thu-tuc");
  }

  return (
    <section className="citizen">
      <PageTitle>{t("home.title")}</PageTitle>
      <p className="lead">{t("home.intro")}</p>
      <form role="search" className="search-bar" onSubmit={search} aria-label={t("home.searchLabel")}>
        <label htmlFor="home-search" className="visually-hidden">{t("home.searchLabel")}</label>
        <input
          id="home-search"
          type="search"
          value={query}
          onChange={(event) => setQuery(event.target.value)}
          placeholder={t("home.searchPlaceholder")}
          maxLength={200}
        />
        <button type="submit" className="primary">{t("home.searchButton")}</button>
      </form>
      <div className="grid home-cards">
        <article className="card">
          <h2>{t("home.catalogueTitle")}</h2>
          <p>{t("home.catalogueText")}</p>
          <Link to="/thu-tuc">{t("home.catalogueLink")}</Link>
        </article>
        <article className="card">
          <h2>{t("home.trackTitle")}</h2>
          <p>{t("home.trackText")}</p>
          <Link to="/tra-cuu">{t("home.trackLink")}</Link>
        </article>
        <article className="card">
          <h2>{t("home.complaintTitle")}</h2>
          <p>{t("home.complaintText")}</p>
          <Link to="/phan-anh">{t("home.complaintLink")}</Link>
        </article>
        <article className="card">
          <h2>{t("home.verifyTitle")}</h2>
          <p>{t("home.verifyText")}</p>
          <Link to="/kiem-tra-chu-ky">{t("home.verifyLink")}</Link>
        </article>
      </div>
    </section>
  );
}
